//! Typed RPC services: errors, servers, and the [`service!`](crate::service)
//! macro.
//!
//! Guarantees:
//! - Arguments and replies always go through `labcodec`, both ways: a
//!   handler never shares memory with its caller.
//! - Every failure is a value of [`RpcError`] with a readable `Display`:
//!   never a panic and never a hang (except a handler that never returns on
//!   a live, connected server, as in 6.824).

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::rc::Rc;

use futures::future::LocalBoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::oneshot;

/// Why an RPC did not produce a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RpcError {
    /// The request or reply was lost: unreliable network, a link down, a
    /// disabled or unconnected end, or no such server. The handler may or
    /// may not have run (6.824's `Call` returning false).
    Unreachable,
    /// The server was deleted, replaced or crashed while the call waited.
    ServerGone,
    /// The client's own deadline passed (see `Client::with_timeout`).
    Timeout,
    /// The server has no service of this name.
    UnknownService(String),
    /// The service has no method of this name.
    UnknownMethod(String),
    /// The arguments could not be encoded.
    Encode(String),
    /// The request (at the server) or the reply (at the client) did not
    /// decode as the expected type.
    Decode(String),
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RpcError::Unreachable => f.write_str(
                "unreachable: the request or reply was lost (link down, end disabled, \
                 no such server, or an unreliable network)",
            ),
            RpcError::ServerGone => {
                f.write_str("server gone: it was deleted or crashed while the call was pending")
            }
            RpcError::Timeout => f.write_str("timed out waiting for the reply"),
            RpcError::UnknownService(s) => write!(f, "unknown service {s:?}"),
            RpcError::UnknownMethod(m) => write!(f, "unknown method {m:?}"),
            RpcError::Encode(e) => write!(f, "bad arguments: {e}"),
            RpcError::Decode(e) => write!(f, "undecodable message: {e}"),
        }
    }
}

impl std::error::Error for RpcError {}

/// What a handler's task runs for one request: it ends by sending the
/// encoded reply (or the error that stands for it) through its [`Reply`].
/// The network spawns it as the handler's task as it is (no wrapper).
pub type HandlerFuture = LocalBoxFuture<'static, ()>;

/// Where one request's answer goes: the call waiting for it.
pub struct Reply(ReplyTo);

enum ReplyTo {
    /// A call: its reply leg is decided as the answer is sent.
    Call(Rc<crate::net::CallShared>),
    /// Whoever holds the receiver (a duplicate's delivery).
    Sender(oneshot::Sender<Answer>),
}

type Answer = Result<Vec<u8>, RpcError>;

impl Reply {
    pub(crate) fn to_call(call: Rc<crate::net::CallShared>) -> Reply {
        Reply(ReplyTo::Call(call))
    }

    pub(crate) fn to_sender(tx: oneshot::Sender<Answer>) -> Reply {
        Reply(ReplyTo::Sender(tx))
    }

    fn send(self, answer: Answer) {
        match self.0 {
            ReplyTo::Call(call) => call.answered(answer),
            // The receiver may be gone: the answer is then dropped.
            ReplyTo::Sender(tx) => {
                let _ = tx.send(answer);
            }
        }
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reply")
    }
}

type Dispatch = Rc<dyn Fn(&str, Vec<u8>, Reply) -> HandlerFuture>;

/// One service: a name and a dispatcher from method names to handlers.
/// Made by the `service` function that [`service!`](crate::service)
/// generates.
#[derive(Clone)]
pub struct Service {
    name: &'static str,
    dispatch: Dispatch,
}

impl Service {
    /// A service named `name` whose `dispatch(method, body, reply)`
    /// handles one request (`method` without the service prefix).
    pub fn new(
        name: &'static str,
        dispatch: impl Fn(&str, Vec<u8>, Reply) -> HandlerFuture + 'static,
    ) -> Self {
        Service {
            name,
            dispatch: Rc::new(dispatch),
        }
    }

    /// The service's name.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Service({:?})", self.name)
    }
}

/// A bag of services reachable under one server name.
#[derive(Default, Debug)]
pub struct Server {
    services: BTreeMap<&'static str, Service>,
}

impl Server {
    /// An empty server.
    pub fn new() -> Server {
        Server::default()
    }

    /// Adds `service` (replacing one of the same name).
    pub fn add_service(mut self, service: Service) -> Server {
        self.services.insert(service.name, service);
        self
    }

    /// Starts handling `method` (`"service.method"`).
    pub(crate) fn dispatch(&self, method: &str, body: Vec<u8>, reply: Reply) -> HandlerFuture {
        let (svc, m) = method.rsplit_once('.').unwrap_or(("", method));
        match self.services.get(svc) {
            Some(s) => (s.dispatch)(m, body, reply),
            None => fail(RpcError::UnknownService(svc.to_string()), reply),
        }
    }
}

fn fail(e: RpcError, reply: Reply) -> HandlerFuture {
    Box::pin(async move { reply.send(Err(e)) })
}

/// Decodes `body` as `A`, runs `handler`, encodes its reply. Used by the
/// code [`service!`](crate::service) generates.
pub fn handle<A, R, F, Fut>(body: Vec<u8>, reply: Reply, handler: F) -> HandlerFuture
where
    A: DeserializeOwned + 'static,
    R: Serialize,
    F: FnOnce(A) -> Fut + 'static,
    Fut: Future<Output = R> + 'static,
{
    let args = labcodec::decode::<A>(&body);
    crate::runtime::recycle_buffer(body);
    match args {
        Err(e) => fail(RpcError::Decode(e.to_string()), reply),
        Ok(args) => Box::pin(async move {
            let answer = handler(args).await;
            let mut out = crate::runtime::take_buffer();
            let encoded = labcodec::encode_into(&answer, &mut out);
            reply.send(
                encoded
                    .map(|()| out)
                    .map_err(|e| RpcError::Encode(e.to_string())),
            );
        }),
    }
}

/// The reply to a method the service does not have.
pub fn unknown_method(service: &str, method: &str, reply: Reply) -> HandlerFuture {
    fail(
        RpcError::UnknownMethod(format!("{service}.{method}")),
        reply,
    )
}

/// Declares an RPC service once; yields a module with a typed client, a
/// server trait and a constructor.
///
/// ```
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// pub struct AddArgs { pub a: i64, pub b: i64 }
///
/// labrpc::service! {
///     /// A calculator.
///     pub service calc {
///         /// Adds two numbers.
///         fn add(AddArgs) -> i64;
///         fn neg(i64) -> i64;
///     }
/// }
///
/// struct Calc;
/// impl calc::Service for Calc {
///     async fn add(&self, args: AddArgs) -> i64 { args.a + args.b }
///     async fn neg(&self, x: i64) -> i64 { -x }
/// }
///
/// fn main() {
///     labrpc::Builder::new().seed(1).run(|| async {
///         let net = labrpc::network();
///         let node = labrpc::node::create("calc-server");
///         let server = labrpc::Server::new().add_service(calc::service(std::rc::Rc::new(Calc)));
///         net.add_server("calc", node, server);
///         let client = calc::Client::new(net.end_to(labrpc::NodeId::TESTER, "calc"));
///         assert_eq!(client.add(&AddArgs { a: 2, b: 3 }).await, Ok(5));
///         assert_eq!(client.neg(&7).await, Ok(-7));
///         assert_eq!(calc::method::add, "calc.add");
///         assert_eq!(calc::METHODS, ["calc.add", "calc.neg"]);
///     });
/// }
/// ```
///
/// The generated module `calc` holds:
/// - `NAME`, the service name on the wire (`"calc"`); methods travel as
///   `"calc.add"`, which is `calc::method::add` (and `calc::METHODS` lists
///   them all): hooks and holds compare `Msg::method` with these;
/// - `trait Service` with one `async fn` per method, taking the arguments by
///   value and returning the reply;
/// - `fn service(Rc<impl Service>) -> labrpc::Service`, to add to a
///   [`Server`];
/// - `struct Client`, made from a `ClientEnd`, with one `async fn` per method
///   taking the arguments by reference and returning
///   `Result<Reply, RpcError>`; `with_timeout(d)` bounds every call.
#[macro_export]
macro_rules! service {
    (
        $(#[$smeta:meta])*
        $vis:vis service $svc:ident {
            $(
                $(#[$mmeta:meta])*
                fn $method:ident($arg:ty) -> $reply:ty;
            )*
        }
    ) => {
        $(#[$smeta])*
        $vis mod $svc {
            #![allow(unused_imports, dead_code)]
            use super::*;

            /// The service's name on the wire.
            pub const NAME: &str = stringify!($svc);

            /// Each method's name on the wire (`"service.method"`), as hooks
            /// and holds see it in `Msg::method`: `raft::method::append_entries`.
            pub mod method {
                #![allow(non_upper_case_globals)]
                $(
                    #[doc = concat!("`\"", stringify!($svc), ".", stringify!($method), "\"`")]
                    pub const $method: &str = concat!(stringify!($svc), ".", stringify!($method));
                )*
            }

            /// Every method's name on the wire, in declaration order.
            pub const METHODS: &[&str] = &[$(method::$method),*];

            /// The server side: implement it and pass it to [`service`].
            #[allow(async_fn_in_trait)]
            pub trait Service: 'static {
                $(
                    $(#[$mmeta])*
                    async fn $method(&self, args: $arg) -> $reply;
                )*
            }

            /// Wraps `handler` as a service to add to a `labrpc::Server`.
            pub fn service<S: Service>(handler: ::std::rc::Rc<S>) -> $crate::rpc::Service {
                $crate::rpc::Service::new(NAME, move |method: &str, body: ::std::vec::Vec<u8>, reply: $crate::rpc::Reply| {
                    let handler = handler.clone();
                    match method {
                        $(
                            stringify!($method) => $crate::rpc::handle(
                                body,
                                reply,
                                move |args: $arg| async move { handler.$method(args).await },
                            ),
                        )*
                        _ => $crate::rpc::unknown_method(NAME, method, reply),
                    }
                })
            }

            /// The typed client side.
            #[derive(Clone, Debug)]
            pub struct Client {
                end: $crate::ClientEnd,
                timeout: ::std::option::Option<::std::time::Duration>,
            }

            impl Client {
                /// A client that calls through `end`.
                pub fn new(end: $crate::ClientEnd) -> Self {
                    Client { end, timeout: None }
                }

                /// Fails every call that has no reply within `d` of virtual
                /// time with `RpcError::Timeout`.
                pub fn with_timeout(mut self, d: ::std::time::Duration) -> Self {
                    self.timeout = Some(d);
                    self
                }

                /// The end this client calls through.
                pub fn end(&self) -> &$crate::ClientEnd {
                    &self.end
                }

                $(
                    $(#[$mmeta])*
                    pub async fn $method(&self, args: &$arg) -> ::std::result::Result<$reply, $crate::RpcError> {
                        let call = self.end.call_traced::<$arg, $reply>(
                            concat!(stringify!($svc), ".", stringify!($method)),
                            args,
                        );
                        match self.timeout {
                            None => call.await,
                            Some(d) => $crate::time::timeout(d, call)
                                .await
                                .unwrap_or(Err($crate::RpcError::Timeout)),
                        }
                    }
                )*
            }
        }
    };
}
