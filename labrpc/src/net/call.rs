//! One call, step by step: the steps of the module docs of [`crate::net`]
//! are the functions of [`Call`], in order.
//!
//! ```text
//! ClientEnd::call_raw
//!   Call::send            1. count, route, `send` event (unroutable: fail after a delay)
//!   Call::request_leg     2-4. plan, hold, travel, decide at arrival, `deliver` event
//!   Call::run_handler     5. handler task on the server's node (+ a duplicate); wait, checking the server
//!   Call::reply_leg       6-7. plan, reorder, hold, travel, decide at arrival, `reply` event
//! ```
//!
//! Every random draw happens in this order, so a seed fixes a call's fate.

use std::ops::RangeInclusive;
use std::rc::Rc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::Fuse;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::*;
use crate::oneshot;
use crate::rpc::{Reply, RpcError};
use crate::time;
use crate::trace::DuplicateStep;

/// A client's end of a connection to one named server.
///
/// Cheap to clone; clones are the same end. Its state (enabled, connected
/// server) lives in the [`Network`].
#[derive(Clone)]
pub struct ClientEnd {
    pub(super) state: Rc<EndState>,
}

impl PartialEq for ClientEnd {
    fn eq(&self, other: &ClientEnd) -> bool {
        self.state.name == other.state.name
    }
}

impl Eq for ClientEnd {}

impl fmt::Debug for ClientEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientEnd({:?})", self.state.name)
    }
}

/// What a handler produced (or the error that stands for it).
type Answer = Result<Vec<u8>, RpcError>;

impl ClientEnd {
    /// The end's name.
    pub fn name(&self) -> &str {
        &self.state.name
    }

    /// Calls `method` (`"service.method"`) with `args`, decoding the reply.
    pub async fn call<A: Serialize, R: DeserializeOwned>(
        &self,
        method: &'static str,
        args: &A,
    ) -> Result<R, RpcError> {
        let req = labcodec::encode(args).map_err(|e| RpcError::Encode(e.to_string()))?;
        let reply = self.call_raw(method, req).await?;
        labcodec::decode(&reply).map_err(|e| RpcError::Decode(e.to_string()))
    }

    /// Calls `method` with already-encoded bytes; returns the encoded reply.
    pub async fn call_raw(&self, method: &'static str, req: Vec<u8>) -> Answer {
        let call = Call::send(self, method, &req).await?;
        call.request_leg().await?;
        match call.run_handler(req).await? {
            Handled::Here(answer) => call.reply_leg(answer).await,
            Handled::ByDuplicate(answer) => {
                // Its reply travelled back already.
                call.reply_arrived(&answer);
                answer
            }
        }
    }
}

/// One call in flight: what its steps share.
struct Call<'e> {
    sim: Rc<Sim>,
    net: Rc<Net>,
    end: &'e ClientEnd,
    rpc: u64,
    method: &'static str,
    /// The end's node.
    client: NodeId,
    server_name: Rc<str>,
    server: Rc<ServerSlot>,
}

/// How the handler step ended.
enum Handled {
    /// The handler answered; the reply still has to travel.
    Here(Answer),
    /// A duplicate of the request answered first, and its reply arrived.
    ByDuplicate(Answer),
}

/// Where a request goes.
struct Route {
    client: NodeId,
    server_name: Rc<str>,
    server: Rc<ServerSlot>,
}

impl NetState {
    /// Where a request from `end` goes, or why it cannot be sent now.
    fn route(&self, end: &ClientEnd) -> Result<Route, DropReason> {
        let e = self.end(end).ok_or(DropReason::EndDeleted)?;
        if !e.enabled.get() {
            return Err(DropReason::EndDisabled);
        }
        let name = e.server.borrow().clone();
        let name = name.ok_or(DropReason::EndNotConnected)?;
        let s = self.servers.get(&name).ok_or(DropReason::NoSuchServer)?;
        if !self.link_up(e.node, s.node) {
            return Err(DropReason::LinkDown);
        }
        Ok(Route {
            client: e.node,
            server_name: name,
            server: s.clone(),
        })
    }
}

impl<'e> Call<'e> {
    /// Step 1: counts the request, routes it and records the `send` event.
    /// A request that cannot be routed fails after a random delay.
    async fn send(
        end: &'e ClientEnd,
        method: &'static str,
        req: &[u8],
    ) -> Result<Call<'e>, RpcError> {
        let sim = runtime::current();
        let net = net_of(&sim);
        let (rpc, route, server) = {
            let mut net = net.borrow_mut();
            net.next_rpc += 1;
            net.total_rpcs += 1;
            net.total_bytes += req.len() as u64;
            let route = net.route(end);
            let server: Rc<str> = match &route {
                Ok(r) => r.server_name.clone(),
                Err(_) => net
                    .end(end)
                    .and_then(|e| e.server.borrow().clone())
                    .unwrap_or_else(|| "".into()),
            };
            (net.next_rpc, route, server)
        };
        trace::record(
            &sim,
            EventKind::Send {
                rpc,
                end: end.state.name.clone(),
                server,
                to: route.as_ref().ok().map(|r| r.server.node),
                method: method.into(),
                bytes: req.len(),
            },
        );
        match route {
            Ok(r) => Ok(Call {
                sim,
                net,
                end,
                rpc,
                method,
                client: r.client,
                server_name: r.server_name,
                server: r.server,
            }),
            Err(reason) => {
                let leg = Leg::Request;
                trace::record(&sim, EventKind::Drop { rpc, leg, reason });
                let long = net.borrow().long_delays;
                drop(sim);
                let max = if long {
                    LONG_FAIL_DELAY
                } else {
                    SHORT_FAIL_DELAY
                };
                time::sleep(uniform_below(max)).await;
                Err(RpcError::Unreachable)
            }
        }
    }

    /// The message of one leg, as hooks and holds see it.
    fn message(&self, leg: Leg) -> Message<'_> {
        let (from, to) = match leg {
            Leg::Request => (self.client, self.server.node),
            Leg::Reply => (self.server.node, self.client),
        };
        Message {
            rpc: self.rpc,
            leg,
            method: self.method,
            from,
            to,
            end: &self.end.state.name,
            server: &self.server_name,
        }
    }

    fn drop_event(&self, leg: Leg, reason: DropReason) -> RpcError {
        drop_event(&self.sim, self.client, self.rpc, leg, reason);
        RpcError::Unreachable
    }

    /// Steps 2-4: the request's fate (hooks, loss, latency), a hold, the
    /// journey, and the decision at arrival; then the `deliver` event.
    async fn request_leg(&self) -> Result<(), RpcError> {
        let msg = self.message(Leg::Request);
        let plan = plan_leg(&self.net, &msg);
        if plan.lost.is_none()
            && let Some(released) = hold::capture(&self.sim, &self.net, &msg)
            && released.await.is_err()
        {
            return Err(self.drop_event(Leg::Request, DropReason::DroppedWhileHeld));
        }
        if !plan.delay.is_zero() {
            time::sleep(plan.delay).await;
        }
        // Decided at arrival: the world may have changed in flight.
        let arrival = plan.lost.map_or_else(
            || {
                let net = self.net.borrow();
                net.still_valid(self.end, &self.server)?;
                if !net.link_up(self.client, self.server.node) {
                    return Err(DropReason::LinkDown);
                }
                Ok(())
            },
            Err,
        );
        if let Err(reason) = arrival {
            // The request never reached a handler of the server it was sent to.
            let reason = if reason == DropReason::ServerGone {
                DropReason::NoSuchServer
            } else {
                reason
            };
            return Err(self.drop_event(Leg::Request, reason));
        }
        self.server.count.set(self.server.count.get() + 1);
        trace::record_at(
            &self.sim,
            self.server.node,
            EventKind::Deliver {
                rpc: self.rpc,
                from: self.client,
                method: self.method.into(),
            },
        );
        Ok(())
    }

    /// Step 5: runs the handler as a task of the server's node (and, with
    /// duplication, maybe a second copy later) and waits for an answer,
    /// checking every [`SERVER_POLL`] that the end and the server are still
    /// there.
    async fn run_handler(&self, req: Vec<u8>) -> Result<Handled, RpcError> {
        let mut duplicate = self.maybe_duplicate(&req);
        let (tx, mut rx) = oneshot::channel();
        let handler = self.server.server.dispatch(self.method, req, Reply(tx));
        crate::task::spawn_boxed_on(self.server.node, handler);
        // A crashed server's handler task is dropped with its sender: the
        // receiver is then terminated and the next check notices the crash.
        let answer = loop {
            let poll = time::sleep(SERVER_POLL);
            futures::select_biased! {
                r = rx => if let Ok(answer) = r {
                    break answer;
                },
                r = duplicate => if let Ok(answer) = r {
                    return Ok(Handled::ByDuplicate(answer));
                },
                _ = poll.fuse() => self.check_server()?,
            }
        };
        // A duplicate's reply arriving from now on is discarded.
        drop(duplicate);
        self.check_server()?;
        Ok(Handled::Here(answer))
    }

    /// Whether the end and the server are still there (a gone server never
    /// acknowledges anything).
    fn check_server(&self) -> Result<(), RpcError> {
        let valid = self.net.borrow().still_valid(self.end, &self.server);
        valid.map_err(|reason| {
            drop_event(&self.sim, self.client, self.rpc, Leg::Reply, reason);
            if reason == DropReason::ServerGone {
                RpcError::ServerGone
            } else {
                RpcError::Unreachable
            }
        })
    }

    /// With duplication on, maybe schedules a second delivery of the
    /// request; returns where its answer will come (never, if not).
    fn maybe_duplicate(&self, req: &[u8]) -> Fuse<oneshot::Receiver<Answer>> {
        let sim = &self.sim;
        if !(self.net.borrow().duplication && crate::rand::gen_bool(DUPLICATE_PROBABILITY)) {
            return Fuse::terminated();
        }
        let (tx, rx) = oneshot::channel();
        let plan = plan_leg(&self.net, &self.message(Leg::Request));
        let delay = uniform_below(DUPLICATE_SPREAD) + plan.delay;
        dup_event(sim, self.server.node, self.rpc, DuplicateStep::Scheduled);
        let dup = Duplicate {
            rpc: self.rpc,
            method: self.method,
            end: self.end.clone(),
            server_name: self.server_name.clone(),
            server: self.server.clone(),
            client: self.client,
            req: req.to_vec(),
        };
        crate::task::spawn_detached_on(self.server.node, dup.run(plan.lost, delay, tx));
        // Fused so that a duplicate lost on the way is reported (and the
        // wait goes on), not skipped.
        rx.fuse()
    }

    /// Steps 6-7: the reply's fate (link, hooks, loss, long reordering), a
    /// hold, the journey back, and the decision at arrival.
    async fn reply_leg(&self, answer: Answer) -> Answer {
        let msg = self.message(Leg::Reply);
        let mut plan = if self.net.borrow().link_up(msg.from, msg.to) {
            plan_leg(&self.net, &msg)
        } else {
            LegPlan::lost(DropReason::LinkDown)
        };
        if let Some(reason) = plan.lost {
            return Err(self.drop_event(Leg::Reply, reason));
        }
        if self.net.borrow().long_reordering && crate::rand::gen_bool(LONG_REORDER_PROBABILITY) {
            let spread = uniform_below(LONG_REORDER_SPREAD);
            plan.delay += LONG_REORDER_MIN + uniform_below(spread.max(Duration::from_nanos(1)));
        }
        if let Some(released) = hold::capture(&self.sim, &self.net, &msg)
            && released.await.is_err()
        {
            return Err(self.drop_event(Leg::Reply, DropReason::DroppedWhileHeld));
        }
        if !plan.delay.is_zero() {
            time::sleep(plan.delay).await;
        }
        if !self.net.borrow().link_up(msg.from, msg.to) {
            return Err(self.drop_event(Leg::Reply, DropReason::LinkDown));
        }
        self.reply_arrived(&answer);
        answer
    }

    /// Counts a delivered reply and records its `reply` event.
    fn reply_arrived(&self, answer: &Answer) {
        let bytes = answer.as_ref().map_or(0, |r| r.len());
        self.net.borrow_mut().total_bytes += bytes as u64;
        trace::record_at(
            &self.sim,
            self.client,
            EventKind::Reply {
                rpc: self.rpc,
                from: self.server.node,
                bytes,
            },
        );
    }
}

/// A second copy of a delivered request.
struct Duplicate {
    rpc: u64,
    method: &'static str,
    end: ClientEnd,
    server_name: Rc<str>,
    server: Rc<ServerSlot>,
    client: NodeId,
    req: Vec<u8>,
}

impl Duplicate {
    /// Travels for `delay` (lost if `lost`), is delivered if the end, the
    /// server and the link are still there, and sends its reply back to
    /// the call (`reply`), which takes it if it is still waiting.
    async fn run(self, lost: Option<DropReason>, delay: Duration, reply: oneshot::Sender<Answer>) {
        let sim = runtime::current();
        let net = net_of(&sim);
        let (rpc, node) = (self.rpc, self.server.node);
        let lose = |at: NodeId, reason| dup_event(&sim, at, rpc, DuplicateStep::Lost(reason));
        time::sleep(delay).await;
        let arrival = lost.map_or_else(
            || {
                let net = net.borrow();
                net.still_valid(&self.end, &self.server)?;
                if !net.link_up(self.client, node) {
                    return Err(DropReason::LinkDown);
                }
                Ok(())
            },
            Err,
        );
        if let Err(reason) = arrival {
            return lose(node, reason);
        }
        {
            let mut net = net.borrow_mut();
            self.server.count.set(self.server.count.get() + 1);
            net.total_bytes += self.req.len() as u64;
        }
        dup_event(&sim, node, rpc, DuplicateStep::Delivered);
        let (tx, rx) = oneshot::channel();
        self.server
            .server
            .dispatch(self.method, self.req, Reply(tx))
            .await;
        // Sent as the handler finished: ready without waiting. (A
        // hand-made service that finishes without answering loses it.)
        let Ok(answer) = rx.await else {
            return lose(node, DropReason::ServerGone);
        };
        let msg = Message {
            rpc,
            leg: Leg::Reply,
            method: self.method,
            from: node,
            to: self.client,
            end: self.end.name(),
            server: &self.server_name,
        };
        let valid = net.borrow().still_valid(&self.end, &self.server);
        if let Err(reason) = valid {
            return lose(node, reason);
        }
        if !net.borrow().link_up(node, self.client) {
            return lose(node, DropReason::LinkDown);
        }
        let plan = plan_leg(&net, &msg);
        if let Some(reason) = plan.lost {
            return lose(node, reason);
        }
        time::sleep(plan.delay).await;
        if !net.borrow().link_up(node, self.client) {
            return lose(self.client, DropReason::LinkDown);
        }
        let step = match reply.send(answer) {
            Ok(()) => DuplicateStep::ReplyUsed,
            Err(_) => DuplicateStep::ReplyDiscarded,
        };
        dup_event(&sim, self.client, rpc, step);
    }
}

fn dup_event(sim: &Sim, node: NodeId, rpc: u64, what: DuplicateStep) {
    trace::record_at(sim, node, EventKind::Duplicate { rpc, what });
}

fn drop_event(sim: &Sim, node: NodeId, rpc: u64, leg: Leg, reason: DropReason) {
    trace::record_at(sim, node, EventKind::Drop { rpc, leg, reason });
}

/// The network's decision for one leg.
struct LegPlan {
    lost: Option<DropReason>,
    delay: Duration,
}

impl LegPlan {
    fn lost(reason: DropReason) -> LegPlan {
        LegPlan {
            lost: Some(reason),
            delay: Duration::ZERO,
        }
    }
}

/// Decides loss and latency of one leg: hooks, unreliable network, link.
fn plan_leg(net: &Net, msg: &Message<'_>) -> LegPlan {
    let (hooks, unreliable, config) = {
        let net = net.borrow();
        let hooks: Vec<Hook> = net.hooks.iter().map(|(_, h)| h.clone()).collect();
        let config = net.link_config(msg.from, msg.to).cloned();
        (hooks, net.unreliable, config)
    };
    let mut plan = LegPlan {
        lost: None,
        delay: Duration::ZERO,
    };
    for hook in hooks {
        match hook(msg) {
            Verdict::Deliver => {}
            Verdict::Drop => {
                plan.lost = Some(DropReason::Hook);
                break;
            }
            Verdict::Delay(d) => plan.delay += d,
        }
    }
    let (loss, latency) = config.map_or((0.0, DEFAULT_LATENCY), |c| (c.loss, c.latency));
    plan.delay += uniform(&latency);
    if unreliable {
        if msg.leg == Leg::Request {
            plan.delay += uniform_below(UNRELIABLE_JITTER);
        }
        if crate::rand::gen_bool(UNRELIABLE_DROP) && plan.lost.is_none() {
            plan.lost = Some(DropReason::Unreliable);
        }
    }
    if loss > 0.0 && crate::rand::gen_bool(loss) && plan.lost.is_none() {
        plan.lost = Some(DropReason::LossyLink);
    }
    plan
}

fn uniform(range: &RangeInclusive<Duration>) -> Duration {
    let (lo, hi) = (
        range.start().as_nanos() as u64,
        range.end().as_nanos() as u64,
    );
    if lo == hi {
        Duration::from_nanos(lo)
    } else {
        Duration::from_nanos(crate::rand::gen_range(lo..=hi))
    }
}

fn uniform_below(max: Duration) -> Duration {
    Duration::from_nanos(crate::rand::gen_range(0..max.as_nanos() as u64))
}
