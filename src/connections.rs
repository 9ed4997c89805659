//! Connections that stall. actix-web cuts off a client that is slow to send its first request's
//! head (`client_request_timeout`); nothing in it cuts off one that never reads its answer, or
//! that trickles the head of a later request on a kept-alive connection. Each connection gets:
//!
//! - `TCP_USER_TIMEOUT` of the client timeout: data sent and not acknowledged, or held back by a
//!   client that stopped reading (a zero window), for that long ends the connection;
//! - a watchdog: a connection that is not serving a request and has not finished one for longer
//!   than the client timeout is shut down, so a head sent a byte at a time cannot hold it open.
//!
//! The request middleware marks a connection busy while it serves a request (see
//! [`Connection::start`]); an answer too large to leave at once stays busy until it has been
//! handed over entirely.

use std::any::Any;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::Extensions;
use actix_web::web::Bytes;

/// A start for the connections' clocks.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn now_ms() -> u64 {
    u64::try_from(EPOCH.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// What the watchdog knows of one connection.
pub struct Connection {
    /// A second handle on the connection's socket, to shut it down by.
    socket: socket2::Socket,
    /// Requests (or answers still being handed over) under way.
    busy: AtomicU64,
    /// When the connection last became idle, in milliseconds since [`EPOCH`].
    idle_since: AtomicU64,
    /// Set once the watchdog has shut the connection down.
    cut: AtomicBool,
}

/// Answers at most this large are left to the kernel's buffers at once: the connection is idle
/// as soon as they are written.
const SMALL_ANSWER: u64 = 256 * 1024;

impl Connection {
    /// Marks the start of a request on this connection.
    pub fn start(&self) {
        self.busy.fetch_add(1, Ordering::AcqRel);
    }

    /// Marks the end of a request whose answer is `body`: at once for a small answer, or when a
    /// large one has been handed over (the body returned wraps it).
    pub fn finish(self: &Arc<Self>, body: BoxBody) -> BoxBody {
        match body.size() {
            BodySize::Sized(n) if n > SMALL_ANSWER => BoxBody::new(Handing {
                body,
                connection: Some(Arc::clone(self)),
            }),
            BodySize::Stream => BoxBody::new(Handing {
                body,
                connection: Some(Arc::clone(self)),
            }),
            _ => {
                self.done();
                body
            }
        }
    }

    fn done(&self) {
        self.idle_since.store(now_ms(), Ordering::Release);
        self.busy.fetch_sub(1, Ordering::AcqRel);
    }

    fn stalled(&self, limit: Duration) -> bool {
        let idle_for = now_ms().saturating_sub(self.idle_since.load(Ordering::Acquire));
        self.busy.load(Ordering::Acquire) == 0
            && idle_for > u64::try_from(limit.as_millis()).unwrap_or(u64::MAX)
    }
}

/// A large answer on its way out; the connection is busy until it is dropped.
struct Handing {
    body: BoxBody,
    connection: Option<Arc<Connection>>,
}

impl Drop for Handing {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            connection.done();
        }
    }
}

impl MessageBody for Handing {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.body).poll_next(cx)
    }
}

/// The `on_connect` hook: no Nagle delay, the user timeout, and a watchdog after `limit`.
pub fn on_connect(connection: &dyn Any, extensions: &mut Extensions, limit: Duration) {
    let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() else {
        return;
    };
    // Without TCP_NODELAY, a response whose headers and body leave in two writes (every
    // compressed one) waits for the client's delayed ACK: ~40 ms on Linux.
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!("cannot set TCP_NODELAY: {error}");
    }
    let socket = socket2::SockRef::from(stream);
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(error) = socket.set_tcp_user_timeout(Some(limit)) {
        tracing::debug!("cannot set TCP_USER_TIMEOUT: {error}");
    }
    let Ok(handle) = socket.try_clone() else {
        return;
    };
    let watched = Arc::new(Connection {
        socket: handle,
        busy: AtomicU64::new(0),
        idle_since: AtomicU64::new(now_ms()),
        cut: AtomicBool::new(false),
    });
    let weak = Arc::downgrade(&watched);
    extensions.insert(watched);
    actix_web::rt::spawn(async move {
        loop {
            actix_web::rt::time::sleep(limit / 2).await;
            let Some(connection) = weak.upgrade() else {
                return;
            };
            if connection.stalled(limit) && !connection.cut.swap(true, Ordering::AcqRel) {
                tracing::info!(
                    "a connection was closed: no request for {} s",
                    limit.as_secs()
                );
                let _ = connection.socket.shutdown(std::net::Shutdown::Both);
                return;
            }
        }
    });
}
