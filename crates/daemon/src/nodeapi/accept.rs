//! The accept loop both sockets share: each connection served on its own task, at most so
//! many at once (one more is closed at once, and a Node client retries).

use std::future::Future;
use std::sync::Arc;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Semaphore;

/// Accepts connections on `listener` (named `what` in the log) until the daemon exits,
/// serving each with `serve`.
pub(crate) async fn accept_each<F, Fut>(listener: UnixListener, max: usize, what: &str, serve: F)
where
    F: Fn(UnixStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let places = Arc::new(Semaphore::new(max));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("{what}: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(place) = Arc::clone(&places).try_acquire_owned() else {
            tracing::warn!("{what}: {max} connections already served: one refused");
            continue;
        };
        let served = serve(stream);
        tokio::spawn(async move {
            served.await;
            drop(place);
        });
    }
}
