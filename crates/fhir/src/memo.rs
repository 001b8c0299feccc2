//! Values built once per name (compiled plans, value set expansions, code systems)
//! and then borrowed by every validating thread without a lock or a reference count.
//!
//! Each element of each instance asks for a few of them. Behind a mutex, or handed
//! out as `Arc` clones, both threads would write the same cache line on every
//! question; here the values sit in an append-only table that lives as long as the
//! memo, and each thread keeps its own map from name to slot. Only a name a thread
//! has not asked before takes the shared lock.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

static NEXT_MEMO: AtomicU64 = AtomicU64::new(1);

/// Memos a thread keeps its slot maps for (a validator has three).
const LOCAL_MEMOS: usize = 8;

/// A thread's slots by name (`None`: known to have no value) for one memo.
type Slots = FastMap<Box<str>, Option<u32>>;

thread_local! {
    /// By memo id, the memos this thread asked last.
    static LOCAL: RefCell<Vec<(u64, Slots)>> = const { RefCell::new(Vec::new()) };
}

pub(crate) struct Memo<T> {
    id: u64,
    names: Mutex<HashMap<String, Option<u32>>>,
    table: Table<T>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo {
            id: NEXT_MEMO.fetch_add(1, Ordering::Relaxed),
            names: Mutex::new(HashMap::new()),
            table: Table::default(),
        }
    }
}

impl<T> std::fmt::Debug for Memo<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo").field("id", &self.id).finish()
    }
}

impl<T> Memo<T> {
    /// What is known of `name`: `None` when nothing is yet, `Some(None)` when it is
    /// known to have no value.
    pub fn get(&self, name: &str) -> Option<Option<&T>> {
        let local = LOCAL.with(|l| {
            l.borrow()
                .iter()
                .find(|(m, _)| *m == self.id)
                .and_then(|(_, ids)| ids.get(name).copied())
        });
        let slot = match local {
            Some(slot) => slot,
            None => {
                let shared = self.names.lock().ok()?.get(name).copied()?;
                self.remember(name, shared);
                shared
            }
        };
        Some(slot.and_then(|s| self.table.get(s)))
    }

    /// Keeps `value` for `name`, unless a value was kept for it meanwhile (by
    /// another thread): what is kept is returned either way.
    pub fn insert(&self, name: &str, value: Option<T>) -> Option<&T> {
        let slot = {
            let Ok(mut names) = self.names.lock() else {
                return None;
            };
            match names.get(name) {
                Some(slot) => *slot,
                None => {
                    let slot = value.and_then(|v| self.table.push(v));
                    names.insert(name.to_string(), slot);
                    slot
                }
            }
        };
        self.remember(name, slot);
        slot.and_then(|s| self.table.get(s))
    }

    /// The value for `name`, built by `build` when no thread has kept one yet.
    /// `build` runs without any lock held: it may ask this memo for other names.
    pub fn get_or_insert_with(&self, name: &str, build: impl FnOnce() -> Option<T>) -> Option<&T> {
        match self.get(name) {
            Some(known) => known,
            None => self.insert(name, build()),
        }
    }

    fn remember(&self, name: &str, slot: Option<u32>) {
        LOCAL.with(|l| {
            let mut l = l.borrow_mut();
            let at = match l.iter().position(|(m, _)| *m == self.id) {
                Some(at) => at,
                None => {
                    if l.len() >= LOCAL_MEMOS {
                        l.remove(0);
                    }
                    l.push((self.id, Slots::default()));
                    l.len() - 1
                }
            };
            l[at].1.insert(name.into(), slot);
        });
    }
}

type Chunk<T> = Box<[OnceLock<T>]>;

/// Values by slot, append-only, so that a value is borrowed for as long as the
/// table lives. Chunk `k` holds `64 << k` values.
struct Table<T> {
    chunks: [OnceLock<Chunk<T>>; 26],
    len: AtomicU32,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            chunks: std::array::from_fn(|_| OnceLock::new()),
            len: AtomicU32::new(0),
        }
    }
}

impl<T> Table<T> {
    const FIRST: u64 = 64;

    fn slot(id: u32) -> (usize, usize) {
        let n = u64::from(id) / Self::FIRST + 1;
        let k = 63 - n.leading_zeros() as usize;
        let start = Self::FIRST * ((1 << k) - 1);
        (k, (u64::from(id) - start) as usize)
    }

    /// Adds a value; callers serialise pushes (under the names' lock).
    fn push(&self, value: T) -> Option<u32> {
        let id = self.len.load(Ordering::Acquire);
        let (k, i) = Self::slot(id);
        let chunk = self
            .chunks
            .get(k)?
            .get_or_init(|| (0..(Self::FIRST << k)).map(|_| OnceLock::new()).collect());
        chunk[i].set(value).ok()?;
        self.len.store(id + 1, Ordering::Release);
        Some(id)
    }

    fn get(&self, id: u32) -> Option<&T> {
        let (k, i) = Self::slot(id);
        self.chunks.get(k)?.get()?.get(i)?.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_fill_each_chunk_before_the_next() {
        assert_eq!(Table::<()>::slot(0), (0, 0));
        assert_eq!(Table::<()>::slot(63), (0, 63));
        assert_eq!(Table::<()>::slot(64), (1, 0));
        assert_eq!(Table::<()>::slot(191), (1, 127));
        assert_eq!(Table::<()>::slot(192), (2, 0));
    }

    #[test]
    fn a_value_is_built_once_and_absence_is_remembered() {
        let memo: Memo<String> = Memo::default();
        let mut built = 0;
        for _ in 0..3 {
            let v = memo.get_or_insert_with("a", || {
                built += 1;
                Some("A".to_string())
            });
            assert_eq!(v.map(String::as_str), Some("A"));
        }
        assert_eq!(built, 1);
        assert_eq!(memo.get("b"), None);
        assert_eq!(memo.insert("b", None), None);
        assert_eq!(memo.get("b"), Some(None));
        // The first value kept wins.
        assert_eq!(
            memo.insert("a", Some("other".into())).map(String::as_str),
            Some("A")
        );
    }

    #[test]
    fn threads_and_memos_see_the_same_slots_across_chunks() {
        let memos: Vec<Memo<usize>> = (0..LOCAL_MEMOS + 2).map(|_| Memo::default()).collect();
        std::thread::scope(|s| {
            for t in 0..4 {
                let memos = &memos;
                s.spawn(move || {
                    for round in 0..2 {
                        for (m, memo) in memos.iter().enumerate() {
                            for i in (0..300).map(|i| (i * 7 + t) % 300) {
                                let v = memo.get_or_insert_with(&i.to_string(), || Some(i + m));
                                assert_eq!(v, Some(&(i + m)), "round {round}");
                            }
                        }
                    }
                });
            }
        });
        assert_eq!(memos[0].table.len.load(Ordering::Acquire), 300);
    }
}
