//! A TCP proxy in front of Redis that a test can cut (every connection dropped, new ones refused)
//! and restore: a Redis outage seen from one process only.

use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub(crate) struct Proxy {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    accept: JoinHandle<()>,
}

#[derive(Default)]
struct State {
    cut: bool,
    links: Vec<JoinHandle<()>>,
}

impl Proxy {
    pub(crate) async fn start(redis_url: &str) -> anyhow::Result<Self> {
        let target = redis_url.trim_start_matches("redis://").trim_end_matches('/').to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut s = st.lock().expect("proxy state");
                if s.cut {
                    continue; // dropped: refused
                }
                let target = target.clone();
                s.links.push(tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                }));
            }
        });
        Ok(Self { addr, state, accept })
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Drops every connection through the proxy and refuses new ones.
    pub(crate) fn cut(&self) {
        let mut s = self.state.lock().expect("proxy state");
        s.cut = true;
        for link in s.links.drain(..) {
            link.abort();
        }
    }

    pub(crate) fn restore(&self) {
        self.state.lock().expect("proxy state").cut = false;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}
