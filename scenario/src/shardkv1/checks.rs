//! The clients' workload and the expectations of a shardkv1 scenario.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use labrpc::NodeId;
use labrpc::time::{sleep, sleep_until, timeout};
use labrpc::trace::event;
use linearizability::{
    CheckOptions, Operation, Verdict as Lin, VersionedKvInput as Input, VersionedKvModel,
    VersionedKvOutput as Output, check_with,
};
use shardkv1::{Clerk, KvError, ShardConfig, ShardCtrler, Version};

use super::spec::{Check, Expect, describe};
use super::world::{KVSRV, World, make_end, show_shards};
use crate::run::{ExpectResult, GET_TIMEOUT, LIN_TIMEOUT, POLL, PROGRESS_WITHIN, at, now, secs};
use crate::spec::{Client, OpKind};

/// A controller instance and a clerk whose ends leave from `node`.
fn clerk_on(node: NodeId) -> (Rc<ShardCtrler>, Clerk) {
    let mk = make_end(node);
    let ctrler = Rc::new(ShardCtrler::new(mk(KVSRV), mk.clone()));
    (ctrler.clone(), Clerk::new(ctrler, mk))
}

impl World {
    /// A recorded Get.
    async fn get(
        &self,
        client: u64,
        clerk: &Clerk,
        key: &str,
    ) -> Result<(String, Version), KvError> {
        let op = self.history.call(client, Input::get(key));
        let r = clerk.get(key).await;
        let out = match &r {
            Ok((v, ver)) => Output::value(v.clone(), *ver),
            Err(_) => Output::ErrNoKey,
        };
        self.history.finish(op, out);
        r
    }

    /// A recorded Put, remembered for `keys_intact` from its call (it may
    /// be applied before it returns, or never return) until it returns
    /// ErrVersion or ErrNoKey (then it was not applied).
    async fn put(
        &self,
        client: u64,
        clerk: &Clerk,
        key: &str,
        value: &str,
        ver: Version,
    ) -> Result<(), KvError> {
        let op = self.history.call(client, Input::put(key, value, ver));
        let slot = {
            let mut writes = self.writes.borrow_mut();
            let list = writes.entry(key.to_string()).or_default();
            list.push((value.to_string(), ver, false));
            list.len() - 1
        };
        let r = clerk.put(key, value, ver).await;
        let out = match r {
            Ok(()) => Output::Done,
            Err(KvError::NoKey) => Output::ErrNoKey,
            Err(KvError::Version) => Output::ErrVersion,
            Err(_) => Output::ErrMaybe,
        };
        self.history.finish(op, out);
        let mut writes = self.writes.borrow_mut();
        let w = &mut writes.get_mut(key).expect("recorded at the call")[slot];
        match r {
            Ok(()) => w.2 = true,
            Err(KvError::NoKey | KvError::Version) => w.0.clear(),
            Err(_) => {}
        }
        r
    }

    /// A client: its own node, controller instance and clerk; each
    /// scheduled operation in turn. A put writes at the version the client
    /// last saw of the key (0 at first) and reads the key again when that
    /// was not right (ErrVersion, ErrMaybe).
    pub(super) async fn client(self: Rc<Self>, c: Client) {
        sleep_until(at(c.start)).await;
        let (_, clerk) = clerk_on(self.clients[c.id]);
        let id = c.id as u64;
        let mut known: BTreeMap<String, Version> = BTreeMap::new();
        for (k, t) in c.schedule.iter().enumerate() {
            sleep_until(at(*t)).await;
            if self.stopped.get() {
                return;
            }
            let key = &c.keys[k % c.keys.len()];
            let put = match c.ops {
                OpKind::Mixed => labrpc::rand::gen_range(0..2) == 0,
                o => o == OpKind::Put,
            };
            let t0 = now();
            let text = if put {
                let value = format!("{}.{k}", c.id);
                let ver = known.get(key).copied().unwrap_or(0);
                let r = self.put(id, &clerk, key, &value, ver).await;
                if r.is_ok() {
                    known.insert(key.clone(), ver + 1);
                } else {
                    let got = self.get(id, &clerk, key).await;
                    known.insert(key.clone(), got.as_ref().map_or(0, |(_, v)| *v));
                }
                format!("put({key:?}, {value:?}, version {ver}) → {}", show(&r))
            } else {
                let r = self.get(id, &clerk, key).await;
                known.insert(key.clone(), r.as_ref().map_or(0, |(_, v)| *v));
                format!("get({key:?}) → {}", show(&r))
            };
            event(
                "client",
                format!(
                    "client {} {text} (called {}, took {} ms)",
                    c.id,
                    secs(t0),
                    (now() - t0).as_millis()
                ),
            );
        }
    }

    fn checker_id(&self) -> u64 {
        let id = self.next_checker.get();
        self.next_checker.set(id + 1);
        id
    }

    /// Checks one expectation (waiting out its window) and records it.
    pub(super) async fn expect(self: &Rc<Self>, e: &Expect) {
        if self.stopped.get() && e.at.is_some() {
            return;
        }
        let deadline = now() + e.within.unwrap_or_default();
        let (held, why) = loop {
            let (ok, why) = self.probe(e).await;
            let once = matches!(
                e.check,
                Check::Linearizable | Check::KeysIntact | Check::Progress | Check::RpcsAtMost(_)
            );
            if ok || once || now() >= deadline {
                break (ok, why);
            }
            sleep(POLL).await;
        };
        let what = describe(e);
        event(
            "expect",
            format!(
                "expectation {} (line {}) {}: {what} — {}",
                e.number,
                e.place.line,
                if held { "held" } else { "FAILED" },
                why.lines().next().unwrap_or("")
            ),
        );
        self.found.borrow_mut().results.push(ExpectResult {
            number: e.number,
            line: e.place.line,
            field: e.place.field.clone(),
            what,
            held: Some(held),
            at: now(),
            why,
        });
    }

    /// The current configuration, asked by the checker (`None` if the
    /// configuration server does not answer within `limit`).
    async fn query(&self, limit: Duration) -> Option<ShardConfig> {
        let (ctrler, _) = clerk_on(self.checker);
        timeout(limit, ctrler.query()).await.ok()
    }

    /// Looks once: (holds, why).
    async fn probe(self: &Rc<Self>, e: &Expect) -> (bool, String) {
        let limit = e.within.unwrap_or(GET_TIMEOUT).max(POLL);
        match &e.check {
            Check::Linearizable => linearizable(&self.history.history()),
            Check::KeysIntact => self.keys_intact(limit).await,
            Check::Progress => self.progress(e.within.unwrap_or(PROGRESS_WITHIN)).await,
            Check::CtrlerDone(which) => match self.ctrler_state(*which) {
                Err(why) => (false, why),
                Ok((n, alive, busy)) => (
                    alive && busy == 0,
                    match (alive, busy) {
                        (false, _) => format!("ctrler {n} is down"),
                        (true, 0) => format!("ctrler {n} is idle"),
                        (true, k) => {
                            format!("ctrler {n} is still at work: {k} changes not returned")
                        }
                    },
                ),
            },
            Check::RpcsAtMost(max) => {
                let n = labrpc::network().total_rpcs();
                (n <= *max, format!("{n} RPCs so far"))
            }
            Check::ConfigNum(_) | Check::Members(_) | Check::Owner(..) => {
                let Some(cfg) = self.query(limit).await else {
                    return (
                        false,
                        format!(
                            "the configuration server did not answer a query within {}",
                            secs(limit)
                        ),
                    );
                };
                config_check(&e.check, &cfg)
            }
        }
    }

    /// Every key a Put wrote: a Get (recorded) finds it at a version some
    /// Put made, with that Put's value, and not below what the Puts that
    /// returned OK made.
    async fn keys_intact(&self, limit: Duration) -> (bool, String) {
        let (_, clerk) = clerk_on(self.checker);
        let keys: Vec<String> = self.writes.borrow().keys().cloned().collect();
        let puts_of = |key: &str| self.writes.borrow()[key].clone();
        let id = self.checker_id();
        let end = now() + limit;
        for key in &keys {
            // What returned OK before the Get is a floor; what was called
            // before it returned may be what it reads (clients go on).
            let before = puts_of(key);
            let left = end.saturating_sub(now()).max(POLL);
            let Ok(got) = timeout(left, self.get(id, &clerk, key)).await else {
                return (
                    false,
                    format!(
                        "Get({key:?}) did not return within {} (shard {} unreachable?)",
                        secs(limit),
                        shardkv1::key2shard(key)
                    ),
                );
            };
            let puts = puts_of(key);
            let Ok((value, ver)) = got else {
                if puts.iter().all(|p| p.0.is_empty()) {
                    continue; // no Put of it was applied
                }
                return (
                    false,
                    format!(
                        "key {key:?} (shard {}) is lost: Get returns ErrNoKey after {} Puts",
                        shardkv1::key2shard(key),
                        puts.len()
                    ),
                );
            };
            let floor = before
                .iter()
                .filter(|p| p.2)
                .map(|p| p.1 + 1)
                .max()
                .unwrap_or(0);
            // A Put refused (ErrVersion, ErrNoKey) has its value cleared.
            let made = puts
                .iter()
                .any(|(v, at, _)| !v.is_empty() && *v == value && at + 1 == ver);
            if ver < floor || !made {
                return (
                    false,
                    format!(
                        "key {key:?} (shard {}) reads {value:?} at version {ver}, but the last \
                         Put that returned OK made version {floor}{}",
                        shardkv1::key2shard(key),
                        if made {
                            ""
                        } else {
                            ", and no Put wrote that value there"
                        }
                    ),
                );
            }
        }
        (
            true,
            format!("{} keys read back with their last Put's value", keys.len()),
        )
    }

    /// A fresh Get and Put of key "live" by the checker.
    async fn progress(&self, within: Duration) -> (bool, String) {
        let (_, clerk) = clerk_on(self.checker);
        let id = self.checker_id();
        let start = now();
        let work = async {
            let ver = match self.get(id, &clerk, "live").await {
                Ok((_, v)) => v,
                Err(_) => 0,
            };
            let _ = self
                .put(id, &clerk, "live", &format!("live.{id}"), ver)
                .await;
        };
        if timeout(within, work).await.is_ok() {
            (
                true,
                format!(
                    "Get and Put of \"live\" returned after {}",
                    secs(now() - start)
                ),
            )
        } else {
            let cfg = self
                .query(Duration::from_secs(1))
                .await
                .map_or("unknown (no answer)".into(), |c| {
                    format!("{} {}", c.num, show_shards(&c))
                });
            (
                false,
                format!(
                    "stuck: a Get and Put of \"live\" (shard {}) did not complete within {}; \
                     the current configuration is {cfg}",
                    shardkv1::key2shard("live"),
                    secs(within)
                ),
            )
        }
    }
}

fn show<T: std::fmt::Debug + 'static>(r: &Result<T, KvError>) -> String {
    match r {
        Ok(v) if (v as &dyn std::any::Any).is::<()>() => "ok".into(),
        Ok(v) => format!("{v:?}"),
        Err(e) => e.to_string(),
    }
}

/// `config_num`, `members`, `shard`/`owner` on the configuration `cfg`.
fn config_check(check: &Check, cfg: &ShardConfig) -> (bool, String) {
    let desc = format!("configuration {} {}", cfg.num, show_shards(cfg));
    match check {
        Check::ConfigNum(n) => (cfg.num == *n, desc),
        Check::Members(want) => {
            let have: Vec<u64> = cfg.groups.keys().copied().collect();
            let placed = cfg.shards.iter().all(|g| cfg.groups.contains_key(g));
            let counts = cfg.counts();
            let (lo, hi) = (
                counts.values().min().copied().unwrap_or(0),
                counts.values().max().copied().unwrap_or(0),
            );
            let ok = have == *want && placed && hi <= lo + 1;
            (
                ok,
                format!("{desc}, groups {have:?}, shards per group {counts:?}"),
            )
        }
        Check::Owner(s, g) => (cfg.shards[*s] == *g, desc),
        _ => unreachable!("a configuration check"),
    }
}

/// Checks a history with the versioned KV model (at most [`LIN_TIMEOUT`]
/// of wall time); a violation is marked in the trace for the page.
#[allow(clippy::disallowed_methods)] // the checker runs on wall time
fn linearizable(history: &[Operation<Input, Output>]) -> (bool, String) {
    let options = CheckOptions {
        timeout: Some(LIN_TIMEOUT),
        threads: Some(1),
        ..CheckOptions::default()
    };
    let result = check_with(&VersionedKvModel, history, &options);
    labtest::trace_violation(&result);
    match result.verdict {
        Lin::Linearizable => (true, format!("{} operations, linearizable", history.len())),
        Lin::Unknown => (
            true,
            format!(
                "{} operations: the check gave up after {LIN_TIMEOUT:?} (assumed ok)",
                history.len()
            ),
        ),
        Lin::NotLinearizable => (false, result.explain(&VersionedKvModel, history)),
    }
}
