//! One call, step by step: the steps of the module docs of [`crate::net`]
//! are the functions of [`Call`], in order.
//!
//! ```text
//! ClientEnd::call_raw
//!   Call::send            1. count, route, `send` event (unroutable: fail after a delay)
//!   Call::request_leg     2-3. plan, hold, travel (a timer: the caller does not wake)
//!   CallShared::arrive    4-5. decide at arrival, `deliver` event, handler task (+ a duplicate)
//!   Call::wait_reply      5. wait; once the handler runs, check the server every SERVER_POLL
//!   CallShared::answered  6. (in the handler's task, as it answers) checks, the reply's fate
//!   Call::reply_arrives   7. (in the caller, woken at arrival) decide at arrival, `reply` event
//! ```
//!
//! The caller sleeps from sending to the reply's arrival: the request
//! arrives by a timer of its own ([`time::fire_at`]), which starts the
//! handler, and the reply's fate (lost, held, or arriving at a given
//! instant) is decided the moment the handler answers. Every random draw
//! happens in this order, so a seed fixes a call's fate.

use std::cell::RefCell;
use std::ops::RangeInclusive;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::trace::Payload;
use rand::Rng;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::*;
use crate::oneshot;
use crate::rpc::{Reply, RpcError};
use crate::time::{self, Sleep, TimerWaker};
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
pub(crate) type Answer = Result<Vec<u8>, RpcError>;

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
        let mut req = runtime::take_buffer();
        labcodec::encode_into(args, &mut req).map_err(|e| RpcError::Encode(e.to_string()))?;
        let reply = self.call_raw(method, req).await?;
        let decoded = labcodec::decode(&reply).map_err(|e| RpcError::Decode(e.to_string()));
        runtime::recycle_buffer(reply);
        decoded
    }

    /// [`ClientEnd::call`], keeping the arguments and the reply in the
    /// trace when it keeps messages' content (`LAB_TRACE`); what the
    /// typed clients of `labrpc::service!` call.
    pub async fn call_traced<A: Serialize, R: Serialize + DeserializeOwned>(
        &self,
        method: &'static str,
        args: &A,
    ) -> Result<R, RpcError> {
        let sim = runtime::current();
        if !sim.trace.borrow().payloads() {
            return self.call(method, args).await;
        }
        sim.trace.borrow_mut().stash_args(Payload::of(args));
        let rpc = {
            let net = self.state.net.upgrade().unwrap_or_else(|| net_of(&sim));
            net.borrow().next_rpc + 1
        };
        let reply: Result<R, RpcError> = self.call(method, args).await;
        if let Ok(r) = &reply {
            sim.trace.borrow_mut().attach_reply(rpc, Payload::of(r));
        }
        reply
    }

    /// Calls `method` with already-encoded bytes; returns the encoded reply.
    pub async fn call_raw(&self, method: &'static str, req: Vec<u8>) -> Answer {
        let call = match Call::send(self, method, &req) {
            Ok(call) => call,
            Err(fails_after) => {
                time::sleep(fails_after).await;
                return Err(RpcError::Unreachable);
            }
        };
        if let Some(held) = call.request_leg(req) {
            call.released(Leg::Request, held.released).await?;
            call.travel(InFlight::Delivers(held.message), held.delay);
        }
        match call.wait_reply().await? {
            Handled::Arrived(answer) => call.reply_arrives(answer),
            Handled::Held(held) => {
                call.released(Leg::Reply, held.released).await?;
                if !held.delay.is_zero() {
                    time::sleep(held.delay).await;
                }
                call.reply_arrives(held.message)
            }
            Handled::ByDuplicate(answer) => {
                // Its reply travelled back already.
                call.reply_arrived(&answer);
                answer
            }
        }
    }
}

/// One call in flight, as its caller holds it. Dropping it (the call
/// finished, or the caller stopped waiting) tells the handler and any
/// duplicate that their answers are no longer wanted.
struct Call {
    sim: Rc<Sim>,
    shared: Rc<CallShared>,
}

impl std::ops::Deref for Call {
    type Target = CallShared;
    fn deref(&self) -> &CallShared {
        &self.shared
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        let (fate, check, waiter) = {
            let mut wait = self.shared.wait.borrow_mut();
            wait.done = true;
            (wait.fate.take(), wait.check.take(), wait.waiter.take())
        };
        // Timers are cancelled after the borrow ends.
        drop((fate, check, waiter));
    }
}

/// What a call's steps share with its handler's [`Reply`] and any
/// duplicate: where the request goes, and where the answer comes back.
pub(crate) struct CallShared {
    net: Rc<Net>,
    end: ClientEnd,
    rpc: u64,
    method: &'static str,
    /// The end's node.
    client: NodeId,
    server_name: Rc<str>,
    server: Rc<ServerSlot>,
    wait: RefCell<Wait>,
}

/// The caller's side of the wait for an answer.
#[derive(Default)]
struct Wait {
    /// Decided when the handler answered.
    fate: Option<Fate>,
    /// The request, while it travels.
    in_flight: Option<InFlight>,
    /// A duplicate's reply that arrived while the call still waited.
    by_duplicate: Option<Answer>,
    /// Wakes the waiting caller.
    waiter: Option<TimerWaker>,
    /// The next check that the server is still there (from the instant
    /// virtual time moves while the handler runs).
    check: Option<Sleep>,
    /// The caller no longer waits (finished, or stopped waiting).
    done: bool,
}

/// A request on its way.
enum InFlight {
    /// It will be delivered if the world still lets it at arrival.
    Delivers(Vec<u8>),
    /// It is lost; the call learns so when it would have arrived.
    Lost(DropReason),
}

/// A message (a request, or a reply's answer) a hold captured: once
/// released it travels for `delay`.
struct Held<T> {
    released: oneshot::Receiver<()>,
    delay: Duration,
    message: T,
}

/// What becomes of the handler's answer on its way back.
enum Fate {
    /// It travels, and arrives when `arrival` completes.
    Travels { answer: Answer, arrival: Sleep },
    /// A hold captured it.
    Held(Held<Answer>),
    /// It is lost (its `drop` event is recorded); the call fails so.
    Lost(RpcError),
}

/// How the handler step ended.
enum Handled {
    /// The reply arrived (still to be decided at arrival).
    Arrived(Answer),
    /// The reply is held.
    Held(Held<Answer>),
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

impl Call {
    /// Step 1: counts the request, routes it and records the `send` event.
    /// A request that cannot be routed fails after the random delay this
    /// returns.
    fn send(end: &ClientEnd, method: &'static str, req: &[u8]) -> Result<Call, Duration> {
        let sim = runtime::current();
        let net = end.state.net.upgrade().unwrap_or_else(|| net_of(&sim));
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
                args: Payload::default(),
            },
        );
        match route {
            Ok(r) => Ok(Call {
                sim,
                shared: Rc::new(CallShared {
                    net,
                    end: end.clone(),
                    rpc,
                    method,
                    client: r.client,
                    server_name: r.server_name,
                    server: r.server,
                    wait: RefCell::default(),
                }),
            }),
            Err(reason) => {
                let leg = Leg::Request;
                trace::record(&sim, EventKind::Drop { rpc, leg, reason });
                let long = net.borrow().long_delays;
                let max = if long {
                    LONG_FAIL_DELAY
                } else {
                    SHORT_FAIL_DELAY
                };
                Err(uniform_below(&sim, max))
            }
        }
    }

    /// Steps 2-3: the request's fate (hooks, loss, latency) and its
    /// journey: it arrives (or is found lost) by a timer
    /// ([`CallShared::arrive`]) while the caller goes on to wait for the
    /// reply. Returns the hold that captured it, if one did.
    fn request_leg(&self, req: Vec<u8>) -> Option<Held<Vec<u8>>> {
        let msg = self.message(Leg::Request);
        let plan = plan_leg(&self.sim, &self.net, &msg);
        let in_flight = match plan.lost {
            // The call learns of a loss when the request would have arrived.
            Some(reason) => InFlight::Lost(reason),
            None => match hold::capture(&self.sim, &self.net, &msg) {
                Some(released) => {
                    return Some(Held {
                        released,
                        delay: plan.delay,
                        message: req,
                    });
                }
                None => InFlight::Delivers(req),
            },
        };
        self.travel(in_flight, plan.delay);
        None
    }

    /// Waits for a held message of `leg` to be released; a message the
    /// hold drops is lost.
    async fn released(&self, leg: Leg, released: oneshot::Receiver<()>) -> Result<(), RpcError> {
        match released.await {
            Ok(()) => Ok(()),
            Err(_) => Err(self.drop_event(leg, DropReason::DroppedWhileHeld)),
        }
    }

    /// The request travels for `delay`, then arrives (at once if zero).
    fn travel(&self, in_flight: InFlight, delay: Duration) {
        if delay.is_zero() {
            self.shared.clone().arrive(&self.sim, in_flight);
        } else {
            self.wait.borrow_mut().in_flight = Some(in_flight);
            let at = time::Instant::from_nanos(self.sim.now.get()) + delay;
            time::fire_at(&self.sim, at, self.shared.clone());
        }
    }

    /// Step 5: waits for the reply (or a duplicate's, or the loss of
    /// either), checking every [`SERVER_POLL`] while the handler runs that
    /// the end and the server are still there.
    async fn wait_reply(&self) -> Result<Handled, RpcError> {
        std::future::poll_fn(|cx| self.poll_wait(cx)).await
    }

    /// One poll of step 5's wait. A crashed server's handler task is
    /// dropped with its [`Reply`]: the next check notices.
    fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<Result<Handled, RpcError>> {
        let mut wait = self.wait.borrow_mut();
        loop {
            match wait.fate.take() {
                Some(Fate::Travels {
                    answer,
                    mut arrival,
                }) => {
                    if Pin::new(&mut arrival).poll(cx).is_pending() {
                        wait.fate = Some(Fate::Travels { answer, arrival });
                        return Poll::Pending;
                    }
                    return Poll::Ready(Ok(Handled::Arrived(answer)));
                }
                Some(Fate::Held(held)) => return Poll::Ready(Ok(Handled::Held(held))),
                Some(Fate::Lost(e)) => return Poll::Ready(Err(e)),
                None => {}
            }
            if let Some(answer) = wait.by_duplicate.take() {
                return Poll::Ready(Ok(Handled::ByDuplicate(answer)));
            }
            match &wait.waiter {
                Some(w) if w.wakes(&self.sim, cx.waker()) => {}
                _ => wait.waiter = Some(TimerWaker::of(&self.sim, cx.waker())),
            }
            let Some(check) = &mut wait.check else {
                // Not checking (yet): see `CallShared::arrive`.
                return Poll::Pending;
            };
            if Pin::new(check).poll(cx).is_pending() {
                return Poll::Pending;
            }
            // The next check, a period after this one.
            wait.check = Some(time::sleep(SERVER_POLL));
            // (Records an event; does not touch `wait`.)
            if let Err(e) = self.check_server(&self.sim) {
                return Poll::Ready(Err(e));
            }
        }
    }

    /// Step 7: the reply arrived; it is lost if the link went down in the
    /// meantime.
    fn reply_arrives(&self, answer: Answer) -> Answer {
        if !self.net.borrow().link_up(self.server.node, self.client) {
            return Err(self.drop_event(Leg::Reply, DropReason::LinkDown));
        }
        self.reply_arrived(&answer);
        answer
    }

    fn drop_event(&self, leg: Leg, reason: DropReason) -> RpcError {
        drop_event(&self.sim, self.client, self.rpc, leg, reason);
        RpcError::Unreachable
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
                reply: Payload::default(),
            },
        );
    }
}

impl CallShared {
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

    /// Whether the end and the server are still there (a gone server never
    /// acknowledges anything).
    /// Whether `leg` can go now: the end enabled, the server live, the
    /// link from its sender to its receiver up.
    fn deliverable(&self, leg: Leg) -> Result<(), DropReason> {
        let (from, to) = match leg {
            Leg::Request => (self.client, self.server.node),
            Leg::Reply => (self.server.node, self.client),
        };
        self.net
            .borrow()
            .deliverable(&self.end, &self.server, from, to)
    }

    fn check_server(&self, sim: &Sim) -> Result<(), RpcError> {
        let valid = self.net.borrow().still_valid(&self.end, &self.server);
        valid.map_err(|reason| {
            drop_event(sim, self.client, self.rpc, Leg::Reply, reason);
            if reason == DropReason::ServerGone {
                RpcError::ServerGone
            } else {
                RpcError::Unreachable
            }
        })
    }

    /// Steps 4-5, at the request's arrival: delivered if the end, the
    /// server and the link are still there (the world may have changed in
    /// flight), then the `deliver` event, the handler as a task of the
    /// server's node, and with duplication maybe a second delivery later.
    /// A request whose caller stopped waiting vanishes.
    fn arrive(self: Rc<Self>, sim: &Sim, in_flight: InFlight) {
        if self.wait.borrow().done {
            return;
        }
        let req = match in_flight {
            InFlight::Delivers(req) => req,
            InFlight::Lost(reason) => {
                drop_event(sim, self.client, self.rpc, Leg::Request, reason);
                return self.settle(sim, Fate::Lost(RpcError::Unreachable));
            }
        };
        let arrival = self.deliverable(Leg::Request);
        if let Err(reason) = arrival {
            // The request never reached a handler of the server it was sent to.
            let reason = if reason == DropReason::ServerGone {
                DropReason::NoSuchServer
            } else {
                reason
            };
            drop_event(sim, self.client, self.rpc, Leg::Request, reason);
            return self.settle(sim, Fate::Lost(RpcError::Unreachable));
        }
        self.server.count.set(self.server.count.get() + 1);
        trace::record_at(
            sim,
            self.server.node,
            EventKind::Deliver {
                rpc: self.rpc,
                from: self.client,
                method: self.method.into(),
            },
        );
        self.maybe_duplicate(sim, &req);
        let (method, node) = (self.method, self.server.node);
        let handler = self
            .server
            .server
            .dispatch(method, req, Reply::to_call(self.clone()));
        // The server checks start only if the handler does not answer in
        // its first poll (most do): `task_waits`.
        sim.spawn_watched(node, handler, Some(self));
    }

    /// Ends the wait with `fate` at once, waking the caller.
    fn settle(&self, sim: &Sim, fate: Fate) {
        let waiter = {
            let mut wait = self.wait.borrow_mut();
            wait.fate = Some(fate);
            wait.waiter.take()
        };
        if let Some(w) = waiter {
            w.wake(sim);
        }
    }

    /// With duplication on, maybe schedules a second delivery of the
    /// request; its reply comes back through [`CallShared::duplicate_answered`].
    fn maybe_duplicate(self: &Rc<Self>, sim: &Sim, req: &[u8]) {
        if !(self.net.borrow().duplication && chance(sim, DUPLICATE_PROBABILITY)) {
            return;
        }
        let plan = plan_leg(sim, &self.net, &self.message(Leg::Request));
        let delay = uniform_below(sim, DUPLICATE_SPREAD) + plan.delay;
        dup_event(sim, self.server.node, self.rpc, DuplicateStep::Scheduled);
        let dup = Duplicate {
            call: self.clone(),
            req: req.to_vec(),
        };
        crate::task::spawn_detached_on(self.server.node, dup.run(plan.lost, delay));
    }

    /// Step 6, in the handler's task as it answers: the checks of step 5
    /// once more, then the reply's fate (link, hooks, loss, long
    /// reordering, a hold). The caller is woken when the reply arrives, or
    /// at once if it is lost or held. An answer nobody waits for any more
    /// is dropped.
    pub(crate) fn answered(&self, answer: Answer) {
        if self.wait.borrow().done {
            return;
        }
        let sim = runtime::current();
        let mut fate = self.reply_fate(&sim, answer);
        let (waiter, check) = {
            let mut wait = self.wait.borrow_mut();
            (wait.waiter.take(), wait.check.take())
        };
        drop(check);
        // The caller is woken when the reply arrives (a timer of its own),
        // or now if it is lost, held, or arrives at once.
        let wake_now = match (&mut fate, waiter) {
            (Fate::Travels { arrival, .. }, Some(w)) => arrival.start_for(&sim, w).err(),
            (_, w) => w,
        };
        self.wait.borrow_mut().fate = Some(fate);
        if let Some(w) = wake_now {
            w.wake(&sim);
        }
    }

    fn reply_fate(&self, sim: &Sim, answer: Answer) -> Fate {
        if let Err(e) = self.check_server(sim) {
            return Fate::Lost(e);
        }
        let msg = self.message(Leg::Reply);
        let mut plan = if self.net.borrow().link_up(msg.from, msg.to) {
            plan_leg(sim, &self.net, &msg)
        } else {
            LegPlan::lost(DropReason::LinkDown)
        };
        if let Some(reason) = plan.lost {
            drop_event(sim, self.client, self.rpc, Leg::Reply, reason);
            return Fate::Lost(RpcError::Unreachable);
        }
        if self.net.borrow().long_reordering && chance(sim, LONG_REORDER_PROBABILITY) {
            let spread = uniform_below(sim, LONG_REORDER_SPREAD);
            plan.delay +=
                LONG_REORDER_MIN + uniform_below(sim, spread.max(Duration::from_nanos(1)));
        }
        if let Some(released) = hold::capture(sim, &self.net, &msg) {
            return Fate::Held(Held {
                released,
                delay: plan.delay,
                message: answer,
            });
        }
        Fate::Travels {
            answer,
            arrival: time::sleep_until(time::Instant::from_nanos(sim.now.get()) + plan.delay),
        }
    }

    /// A duplicate's reply arrived: the call takes it if it still waits
    /// for its own handler. Returns whether it did.
    fn duplicate_answered(&self, answer: Answer) -> bool {
        let waiter = {
            let mut wait = self.wait.borrow_mut();
            if wait.done || wait.fate.is_some() || wait.by_duplicate.is_some() {
                return false;
            }
            wait.by_duplicate = Some(answer);
            wait.waiter.take()
        };
        if let Some(w) = waiter {
            w.wake(&runtime::current());
        }
        true
    }
}

impl runtime::OnPending for CallShared {
    /// The handler waits: the server checks start, the first a
    /// [`SERVER_POLL`] from now (the instant the handler started), if the
    /// call still waits.
    fn task_waits(self: Rc<Self>, sim: &Sim) {
        let mut wait = self.wait.borrow_mut();
        let still_waiting = !wait.done && wait.fate.is_none() && wait.by_duplicate.is_none();
        if let (true, Some(waiter)) = (still_waiting, wait.waiter.clone()) {
            let mut check = time::sleep(SERVER_POLL);
            let started = check.start_for(sim, waiter);
            debug_assert!(started.is_ok(), "a check period is never zero");
            wait.check = Some(check);
        }
    }
}

impl time::Fire for CallShared {
    /// The request arrives (step 4).
    fn fire(self: Rc<Self>, sim: &Sim) {
        let in_flight = self.wait.borrow_mut().in_flight.take();
        if let Some(in_flight) = in_flight {
            self.arrive(sim, in_flight);
        }
    }
}

/// A second copy of a delivered request.
struct Duplicate {
    call: Rc<CallShared>,
    req: Vec<u8>,
}

impl Duplicate {
    /// Travels for `delay` (lost if `lost`), is delivered if the end, the
    /// server and the link are still there, and sends its reply back to
    /// the call, which takes it if it is still waiting.
    async fn run(self, lost: Option<DropReason>, delay: Duration) {
        let sim = runtime::current();
        let call = &self.call;
        let net = &call.net;
        let (rpc, node, client) = (call.rpc, call.server.node, call.client);
        let lose = |at: NodeId, reason| dup_event(&sim, at, rpc, DuplicateStep::Lost(reason));
        time::sleep(delay).await;
        let arrival = lost.map_or_else(|| call.deliverable(Leg::Request), Err);
        if let Err(reason) = arrival {
            return lose(node, reason);
        }
        {
            let mut net = net.borrow_mut();
            call.server.count.set(call.server.count.get() + 1);
            net.total_bytes += self.req.len() as u64;
        }
        dup_event(&sim, node, rpc, DuplicateStep::Delivered);
        let (tx, rx) = oneshot::channel();
        call.server
            .server
            .dispatch(call.method, self.req, Reply::to_sender(tx))
            .await;
        // Sent as the handler finished: ready without waiting. (A
        // hand-made service that finishes without answering loses it.)
        let Ok(answer) = rx.await else {
            return lose(node, DropReason::ServerGone);
        };
        let msg = call.message(Leg::Reply);
        if let Err(reason) = call.deliverable(Leg::Reply) {
            return lose(node, reason);
        }
        let plan = plan_leg(&sim, net, &msg);
        if let Some(reason) = plan.lost {
            return lose(node, reason);
        }
        time::sleep(plan.delay).await;
        if !net.borrow().link_up(node, client) {
            return lose(client, DropReason::LinkDown);
        }
        let step = if call.duplicate_answered(answer) {
            DuplicateStep::ReplyUsed
        } else {
            DuplicateStep::ReplyDiscarded
        };
        dup_event(&sim, client, rpc, step);
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
fn plan_leg(sim: &Sim, net: &Net, msg: &Message<'_>) -> LegPlan {
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
    plan.delay += uniform(sim, &latency);
    if unreliable {
        if msg.leg == Leg::Request {
            plan.delay += uniform_below(sim, UNRELIABLE_JITTER);
        }
        if chance(sim, UNRELIABLE_DROP) && plan.lost.is_none() {
            plan.lost = Some(DropReason::Unreliable);
        }
    }
    if loss > 0.0 && chance(sim, loss) && plan.lost.is_none() {
        plan.lost = Some(DropReason::LossyLink);
    }
    plan
}

// The simulation's RNG, drawn from as `crate::rand` does (the same
// values), without looking the simulation up again.

fn uniform(sim: &Sim, range: &RangeInclusive<Duration>) -> Duration {
    let (lo, hi) = (
        range.start().as_nanos() as u64,
        range.end().as_nanos() as u64,
    );
    if lo == hi {
        Duration::from_nanos(lo)
    } else {
        Duration::from_nanos(sim.rng.borrow_mut().random_range(lo..=hi))
    }
}

fn uniform_below(sim: &Sim, max: Duration) -> Duration {
    Duration::from_nanos(sim.rng.borrow_mut().random_range(0..max.as_nanos() as u64))
}

/// `true` with probability `p`.
fn chance(sim: &Sim, p: f64) -> bool {
    sim.rng.borrow_mut().random_bool(p)
}
