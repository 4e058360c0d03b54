//! Shard configurations: which group serves which shard (given code, the
//! course's `shardcfg`; do not edit).
//!
//! There are [`NSHARDS`] shards; a key's shard is [`key2shard`]. A
//! [`ShardConfig`] numbers one assignment of shards to groups and lists
//! each group's servers. [`ShardConfig::join_balance`] and
//! [`ShardConfig::leave_balance`] derive the next configuration, moving
//! as few shards as a balanced result allows.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// How many shards the keys are split into.
pub const NSHARDS: usize = 12;
/// The number of the first configuration ([`ShardConfig::initial`] joined
/// with the first group).
pub const NUM_FIRST: Num = 1;
/// The first group's id: it owns every shard when it starts.
pub const GID1: Gid = 1;

/// A group id. 0 means "no group".
pub type Gid = u64;
/// A configuration number.
pub type Num = u64;
/// A shard, `0..NSHARDS`.
pub type ShardId = usize;

/// The shard of `key`: the 32-bit FNV-1a hash of its bytes, modulo
/// [`NSHARDS`].
pub fn key2shard(key: &str) -> ShardId {
    let mut h: u32 = 2_166_136_261;
    for b in key.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(16_777_619);
    }
    h as usize % NSHARDS
}

/// One configuration: its number, each shard's group, each group's
/// servers (labrpc server names).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardConfig {
    /// The configuration's number.
    pub num: Num,
    /// `shards[s]`: the group serving shard `s` (0: none).
    pub shards: [Gid; NSHARDS],
    /// Each group's servers.
    pub groups: BTreeMap<Gid, Vec<String>>,
}

impl fmt::Display for ShardConfig {
    /// The string form stored in the controller's key/value server
    /// (JSON); [`ShardConfig::from_string`] reads it back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&s)
    }
}

impl ShardConfig {
    /// Configuration 0: no groups, every shard on gid 0.
    pub fn initial() -> ShardConfig {
        ShardConfig {
            num: 0,
            shards: [0; NSHARDS],
            groups: BTreeMap::new(),
        }
    }

    /// Reads a configuration from its string form.
    ///
    /// # Panics
    /// If `s` is not a configuration's string form.
    pub fn from_string(s: &str) -> ShardConfig {
        serde_json::from_str(s).unwrap_or_else(|e| panic!("not a ShardConfig ({e}): {s:?}"))
    }

    /// The group of `shard` and its servers; `None` if the shard is on
    /// gid 0 or its group has no servers listed.
    pub fn gid_servers(&self, shard: ShardId) -> Option<(Gid, &[String])> {
        let gid = self.shards[shard];
        self.groups.get(&gid).map(|s| (gid, s.as_slice()))
    }

    /// Whether `gid` serves at least one shard (being listed in `groups`
    /// is not enough).
    pub fn is_member(&self, gid: Gid) -> bool {
        gid != 0 && self.shards.contains(&gid)
    }

    /// How many shards each listed group serves.
    pub fn counts(&self) -> BTreeMap<Gid, usize> {
        let mut counts: BTreeMap<Gid, usize> = self.groups.keys().map(|&g| (g, 0)).collect();
        for g in &self.shards {
            if let Some(c) = counts.get_mut(g) {
                *c += 1;
            }
        }
        counts
    }

    /// Adds `groups` and bumps the number. False (and nothing changes) if
    /// one of the gids is already here.
    ///
    /// # Panics
    /// If `groups` is empty, or a server name is already another group's.
    pub fn join(&mut self, groups: &BTreeMap<Gid, Vec<String>>) -> bool {
        assert!(!groups.is_empty(), "join of no group");
        for (gid, servers) in groups {
            if self.groups.contains_key(gid) {
                log::info!("join: gid {gid} is already in configuration {}", self.num);
                return false;
            }
            for (other, theirs) in &self.groups {
                if let Some(s) = servers.iter().find(|s| theirs.contains(s)) {
                    panic!("join: server {s} of gid {gid} is already gid {other}'s");
                }
            }
        }
        self.groups.extend(groups.clone());
        self.num += 1;
        true
    }

    /// Removes `gids` and bumps the number. False (and nothing changes) if
    /// one of them is not here.
    pub fn leave(&mut self, gids: &[Gid]) -> bool {
        if let Some(g) = gids.iter().find(|g| !self.groups.contains_key(g)) {
            log::info!("leave: gid {g} is not in configuration {}", self.num);
            return false;
        }
        for g in gids {
            self.groups.remove(g);
        }
        self.num += 1;
        true
    }

    /// [`ShardConfig::join`], then [`ShardConfig::rebalance`].
    pub fn join_balance(&mut self, groups: &BTreeMap<Gid, Vec<String>>) -> bool {
        let ok = self.join(groups);
        if ok {
            self.rebalance();
        }
        ok
    }

    /// [`ShardConfig::leave`], then [`ShardConfig::rebalance`].
    pub fn leave_balance(&mut self, gids: &[Gid]) -> bool {
        let ok = self.leave(gids);
        if ok {
            self.rebalance();
        }
        ok
    }

    /// Reassigns shards, deterministically and moving as few as possible:
    /// every shard of a group that is gone goes to the group with the
    /// fewest shards; then, while the largest count exceeds the smallest
    /// by 2 or more, the most loaded group gives its lowest shard to the
    /// least loaded. Ties go to the lowest gid. Without groups, every
    /// shard goes to gid 0.
    pub fn rebalance(&mut self) {
        if self.groups.is_empty() {
            self.shards = [0; NSHARDS];
            return;
        }
        for s in 0..NSHARDS {
            if !self.groups.contains_key(&self.shards[s]) {
                self.shards[s] = self.least_loaded();
            }
        }
        loop {
            let (max_g, max) = self.extreme(true);
            let (min_g, min) = self.extreme(false);
            if max < min + 2 {
                return;
            }
            let s = (0..NSHARDS)
                .find(|&s| self.shards[s] == max_g)
                .expect("the most loaded group has a shard");
            self.shards[s] = min_g;
        }
    }

    fn least_loaded(&self) -> Gid {
        self.extreme(false).0
    }

    /// The most (or least) loaded group and its count; ties go to the
    /// lowest gid.
    fn extreme(&self, most: bool) -> (Gid, usize) {
        let mut best: Option<(Gid, usize)> = None;
        for (g, c) in self.counts() {
            let better = match best {
                None => true,
                Some((_, b)) if most => c > b,
                Some((_, b)) => c < b,
            };
            if better {
                best = Some((g, c));
            }
        }
        best.expect("a configuration with groups")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn key2shard_values() {
        assert_eq!(key2shard("k"), 6);
        assert_eq!(key2shard(""), 1);
        assert_eq!(key2shard("x"), 3);
        assert_eq!(key2shard("1"), 4);
        let want = [
            10, 9, 0, 11, 6, 5, 8, 7, 6, 5, 7, 8, 5, 6, 3, 4, 1, 2, 11, 0, 4, 3, 2, 1, 0, 11, 10,
            9, 0, 11, 9, 10, 11, 0, 5, 6, 7, 8, 5, 6, 10, 9, 0, 11, 6, 5, 8, 7, 6, 5, 3, 4, 1, 2,
            7, 8, 5, 6, 11, 0,
        ];
        for (i, &s) in want.iter().enumerate() {
            assert_eq!(key2shard(&format!("k{i}")), s, "key k{i}");
        }
    }

    #[test]
    fn rebalance_table() {
        let rows: [(&str, [Gid; NSHARDS]); 17] = [
            ("j1", [1; NSHARDS]),
            ("j2", [2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1]),
            ("j3", [3, 3, 2, 2, 2, 2, 3, 3, 1, 1, 1, 1]),
            ("j4", [4, 3, 4, 2, 2, 2, 3, 3, 4, 1, 1, 1]),
            ("j5", [4, 3, 4, 5, 2, 2, 3, 3, 4, 5, 1, 1]),
            ("j6", [6, 6, 4, 5, 2, 2, 3, 3, 4, 5, 1, 1]),
            ("j7", [6, 6, 4, 5, 2, 2, 3, 3, 4, 5, 7, 1]),
            ("j8", [6, 6, 4, 5, 8, 2, 3, 3, 4, 5, 7, 1]),
            ("j9", [6, 6, 4, 5, 8, 2, 9, 3, 4, 5, 7, 1]),
            ("l2", [6, 6, 4, 5, 8, 1, 9, 3, 4, 5, 7, 1]),
            ("l3", [6, 6, 4, 5, 8, 1, 9, 7, 4, 5, 7, 1]),
            ("l4", [6, 6, 8, 5, 8, 1, 9, 7, 9, 5, 7, 1]),
            ("l5", [6, 6, 8, 1, 8, 1, 9, 7, 9, 6, 7, 1]),
            ("l6", [7, 8, 8, 1, 8, 1, 9, 7, 9, 9, 7, 1]),
            ("l7", [1, 8, 8, 1, 8, 1, 9, 8, 9, 9, 9, 1]),
            ("l8", [1, 1, 9, 1, 1, 1, 9, 9, 9, 9, 9, 1]),
            ("l9", [1; NSHARDS]),
        ];
        let mut c = ShardConfig::initial();
        for (i, (step, want)) in rows.iter().enumerate() {
            let g: Gid = step[1..].parse().unwrap();
            let ok = if step.starts_with('j') {
                c.join_balance(&BTreeMap::from([(g, servers(&[&format!("s{g}")]))]))
            } else {
                c.leave_balance(&[g])
            };
            assert!(ok, "{step}");
            assert_eq!(&c.shards, want, "{step}");
            assert_eq!(c.num, i as Num + 1);
        }
    }

    #[test]
    fn basic() {
        let mut c = ShardConfig::initial();
        assert!(c.groups.is_empty());
        assert!(c.join_balance(&BTreeMap::from([(1, servers(&["x", "y", "z"]))])));
        assert!(c.join_balance(&BTreeMap::from([(2, servers(&["a", "b", "c"]))])));
        assert_eq!(c.groups[&1], servers(&["x", "y", "z"]));
        assert_eq!(c.groups[&2], servers(&["a", "b", "c"]));
        assert!(!c.join_balance(&BTreeMap::from([(2, servers(&["d"]))])));
        let back = ShardConfig::from_string(&c.to_string());
        assert_eq!(back, c);
        assert!(c.leave_balance(&[1]));
        assert_eq!(c.shards, [2; NSHARDS]);
        assert!(!c.leave_balance(&[1]));
        assert!(c.leave_balance(&[2]));
        assert_eq!(c.shards, [0; NSHARDS]);
        assert!(!c.is_member(0));
    }
}
