//! `--shard K/N`: a deterministic split of a run's scenarios across CI jobs, so N
//! machines each run about 1/N of the scenarios and `assure report merge` puts the
//! pieces back together.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Whether the scenario belongs to this shard. It hashes the suite and scenario ids
    /// (not positions in a list), so a scenario keeps its shard when others are added.
    pub fn contains(&self, suite: &str, scenario_id: &str) -> bool {
        let digest = Sha256::new()
            .chain_update(suite.as_bytes())
            .chain_update([0u8])
            .chain_update(scenario_id.as_bytes())
            .finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a shard: expected K/N with 1 <= K <= N, e.g. 2/3");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_scenario_lands_in_exactly_one_shard() {
        let shards: Vec<Shard> = (1..=3).map(|i| Shard { index: i, count: 3 }).collect();
        let mut sizes = [0usize; 3];
        for line in 0..300 {
            let id = format!("features/a.feature:{line}");
            let hits: Vec<usize> = (0..3).filter(|i| shards[*i].contains("s", &id)).collect();
            assert_eq!(hits.len(), 1, "{id}");
            sizes[hits[0]] += 1;
        }
        // Roughly even: none gets less than a fifth.
        assert!(sizes.iter().all(|n| *n > 60), "{sizes:?}");
        assert!(Shard { index: 1, count: 1 }.contains("s", "x"));
    }
}
