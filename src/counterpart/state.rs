//! What a running counterpart holds and the admin API changes: its stub mappings (in
//! the order they are tried), scenario states, the request journal, answers scripted
//! for the next requests, and global settings.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::mapping::{Fault, Mapping, StubSet, SCENARIO_STARTED};
use super::JournalEntry;

/// An answer a scenario has scripted for the next request, ahead of the stub set.
#[derive(Debug, Clone)]
pub enum Scripted {
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    Fault(Fault),
}

/// A mapping being served: when it was added decides ties of priority.
#[derive(Debug, Clone)]
pub struct Stub {
    pub mapping: Arc<Mapping>,
    pub seq: u64,
    /// Its index in the stub set as loaded; `None` for mappings added over the admin API.
    pub loaded: Option<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub fixed_delay: Option<u64>,
    pub extended: serde_json::Value,
}

pub struct State {
    pub set: Arc<StubSet>,
    pub files_dirs: Vec<PathBuf>,
    stubs: RwLock<Vec<Stub>>,
    seq: AtomicU64,
    scenarios: Mutex<HashMap<String, String>>,
    entries: Mutex<Vec<JournalEntry>>,
    live: tokio::sync::broadcast::Sender<JournalEntry>,
    scripted: Mutex<VecDeque<Scripted>>,
    pub settings: Mutex<Settings>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl State {
    pub fn new(set: &StubSet) -> State {
        let state = State {
            set: Arc::new(set.clone()),
            files_dirs: set.files_dirs(),
            stubs: RwLock::new(Vec::new()),
            seq: AtomicU64::new(0),
            scenarios: Mutex::new(HashMap::new()),
            entries: Mutex::new(Vec::new()),
            live: tokio::sync::broadcast::channel(256).0,
            scripted: Mutex::new(VecDeque::new()),
            settings: Mutex::new(Settings::default()),
        };
        state.reset_mappings();
        state
    }

    /// Back to the mappings the set was loaded with.
    pub fn reset_mappings(&self) {
        let stubs: Vec<Stub> = self
            .set
            .mappings
            .iter()
            .enumerate()
            .map(|(i, m)| Stub {
                mapping: Arc::new(m.clone()),
                seq: self.seq.fetch_add(1, Ordering::Relaxed),
                loaded: Some(i),
            })
            .collect();
        *self.stubs.write().unwrap_or_else(|e| e.into_inner()) = stubs;
    }

    /// Every stub in the order tried: priority, then the latest added first.
    pub fn stubs(&self) -> Vec<Stub> {
        let mut list = self.stubs.read().unwrap_or_else(|e| e.into_inner()).clone();
        list.sort_by_key(|s| (s.mapping.priority, std::cmp::Reverse(s.seq)));
        list
    }

    pub fn add(&self, mapping: Mapping) {
        let stub = Stub {
            mapping: Arc::new(mapping),
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            loaded: None,
        };
        self.stubs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(stub);
    }

    pub fn find(&self, id: &str) -> Option<Stub> {
        self.stubs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|s| s.mapping.id == id)
            .cloned()
    }

    /// Replaces the mapping with the same id, keeping its place; `false` if none.
    pub fn replace(&self, mapping: Mapping) -> bool {
        let mut stubs = self.stubs.write().unwrap_or_else(|e| e.into_inner());
        match stubs.iter_mut().find(|s| s.mapping.id == mapping.id) {
            Some(s) => {
                s.mapping = Arc::new(mapping);
                true
            }
            None => false,
        }
    }

    pub fn remove(&self, id: &str) -> bool {
        let mut stubs = self.stubs.write().unwrap_or_else(|e| e.into_inner());
        let before = stubs.len();
        stubs.retain(|s| s.mapping.id != id);
        stubs.len() != before
    }

    pub fn clear_mappings(&self) {
        self.stubs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub fn scenario_state(&self, name: &str) -> String {
        lock(&self.scenarios)
            .get(name)
            .cloned()
            .unwrap_or_else(|| SCENARIO_STARTED.to_owned())
    }

    pub fn set_scenario(&self, name: &str, state: &str) {
        lock(&self.scenarios).insert(name.to_owned(), state.to_owned());
    }

    pub fn reset_scenarios(&self) {
        lock(&self.scenarios).clear();
    }

    /// Every scenario the mappings name, with its state and the states it has.
    pub fn scenarios(&self) -> Vec<(String, String, Vec<String>)> {
        let mut names: Vec<(String, Vec<String>)> = Vec::new();
        for stub in self.stubs() {
            let Some(rule) = &stub.mapping.scenario else {
                continue;
            };
            let i = match names.iter().position(|(n, _)| *n == rule.name) {
                Some(i) => i,
                None => {
                    names.push((rule.name.clone(), Vec::new()));
                    names.len() - 1
                }
            };
            for s in [&rule.required_state, &rule.new_state]
                .into_iter()
                .flatten()
            {
                if !names[i].1.contains(s) {
                    names[i].1.push(s.clone());
                }
            }
        }
        names
            .into_iter()
            .map(|(n, states)| {
                let current = self.scenario_state(&n);
                (n, current, states)
            })
            .collect()
    }

    pub fn record(&self, entry: JournalEntry) {
        lock(&self.entries).push(entry.clone());
        // Nobody listening is fine.
        let _ = self.live.send(entry);
    }

    pub fn journal(&self) -> Vec<JournalEntry> {
        lock(&self.entries).clone()
    }

    pub fn clear_journal(&self) {
        lock(&self.entries).clear();
    }

    pub fn remove_entries(&self, keep: impl Fn(&JournalEntry) -> bool) {
        lock(&self.entries).retain(|e| keep(e));
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<JournalEntry> {
        self.live.subscribe()
    }

    pub fn script(&self, answer: Scripted) {
        lock(&self.scripted).push_back(answer);
    }

    pub fn clear_script(&self) {
        lock(&self.scripted).clear();
    }

    pub fn next_scripted(&self) -> Option<Scripted> {
        lock(&self.scripted).pop_front()
    }
}
