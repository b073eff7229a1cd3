//! Running an adapter's reference app on `127.0.0.1:0` for one scenario.

use std::{future::Future, net::SocketAddr, thread::JoinHandle};

use session_core::SessionManager;

/// Starts an adapter's reference app over the given manager and returns the running server.
pub type Start = fn(SessionManager) -> TestServer;

/// A server running on its own thread; dropping it stops the server.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<Box<dyn FnOnce() + Send>>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// A server at `addr` that `stop` shuts down (and waits for).
    pub fn new(addr: SocketAddr, stop: impl FnOnce() + Send + 'static) -> Self {
        Self {
            addr,
            stop: Some(Box::new(stop)),
        }
    }

    /// Binds `127.0.0.1:0` (non-blocking) and runs `serve(listener)` on a dedicated thread
    /// with its own two-worker tokio runtime, until the server is dropped.
    pub fn on_tokio<F, Fut>(serve: F) -> Self
    where
        F: FnOnce(std::net::TcpListener) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let (listener, addr) = bind_loopback();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread: JoinHandle<()> = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("test server runtime");
            runtime.block_on(async move {
                tokio::select! {
                    () = serve(listener) => {}
                    _ = stop_rx => {}
                }
            });
            runtime.shutdown_background();
        });
        Self::new(addr, move || {
            let _ = stop_tx.send(());
            let _ = thread.join();
        })
    }
}

/// A non-blocking listener on a free loopback port.
pub fn bind_loopback() -> (std::net::TcpListener, SocketAddr) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let addr = listener.local_addr().expect("local address");
    (listener, addr)
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
    }
}
