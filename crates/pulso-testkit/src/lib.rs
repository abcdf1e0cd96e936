//! Test support shared by the crates' tests (a dev-dependency only).
//!
//! [`FakeLlm`] is a scripted HTTP/1.1 server on 127.0.0.1 that stands in for an
//! OpenAI-compatible LLM: each request is recorded as [`Seen`] and answered with the
//! [`Reply`] a script picks, one request per connection.

pub mod postgres;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query string, e.g. `/v1/chat/completions?api-key=…`.
    pub path: String,
    /// Header names in lower case, in the order sent; a repeated header appears twice.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    /// The first value of a header (`name` in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header (`name` in lower case).
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as JSON, or `Null` when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// What the server does with a request.
#[derive(Debug, Clone)]
pub enum Reply {
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Closes the connection without a word.
    Close,
    /// Keeps the connection open and never answers, until the client gives up.
    Hang,
}

impl Reply {
    /// A JSON answer with this status.
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self::with_content_type(status, "application/json", body)
    }

    /// An answer with this status and content type.
    pub fn with_content_type(status: u16, content_type: &str, body: impl Into<String>) -> Self {
        Reply::Http {
            status,
            headers: vec![("Content-Type".to_string(), content_type.to_string())],
            body: body.into(),
        }
    }
}

type Script = dyn Fn(&Seen) -> Reply + Send + Sync;

/// The scripted server; it stops when dropped.
pub struct FakeLlm {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeLlm {
    /// Answers each request with what `script` says.
    pub async fn start(script: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake LLM");
        let port = listener.local_addr().expect("its address").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let server = tokio::spawn({
            let seen = Arc::clone(&seen);
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let seen = Arc::clone(&seen);
                    let script = Arc::clone(&script);
                    tokio::spawn(async move {
                        let _ = serve_connection(stream, &seen, script.as_ref()).await;
                    });
                }
            }
        });
        FakeLlm { port, seen, server }
    }

    /// Plays `replies` in the order requests arrive, repeating the last one.
    pub async fn sequence(replies: Vec<Reply>) -> Self {
        assert!(!replies.is_empty(), "a sequence needs at least one reply");
        let next = std::sync::atomic::AtomicUsize::new(0);
        Self::start(move |_| {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            replies[i.min(replies.len() - 1)].clone()
        })
        .await
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The API root as users enter it as `llmUrl`: `http://127.0.0.1:<port>/v1`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// Every request so far, in the order received.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    seen: &Mutex<Vec<Seen>>,
    script: &Script,
) -> std::io::Result<()> {
    let Some(request) = read_request(&mut stream).await? else {
        return Ok(());
    };
    seen.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(request.clone());
    match script(&request) {
        Reply::Http {
            status,
            headers,
            body,
        } => {
            let reason = match status {
                200 => "OK",
                400 => "Bad Request",
                401 => "Unauthorized",
                429 => "Too Many Requests",
                500 => "Internal Server Error",
                503 => "Service Unavailable",
                _ => "Scripted",
            };
            let mut head = format!(
                "HTTP/1.1 {status} {reason}\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await?;
            stream.shutdown().await?;
        }
        Reply::Close => {}
        Reply::Hang => {
            // Read (and ignore) until the client gives up and closes; never answer.
            let mut buf = [0u8; 1024];
            let _ = tokio::time::timeout(Duration::from_secs(120), async {
                while stream.read(&mut buf).await.is_ok_and(|n| n > 0) {}
            })
            .await;
        }
    }
    Ok(())
}

/// One HTTP/1.1 request with a Content-Length body; `None` when the peer sent nothing.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Seen>> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let header_end = loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_string();
    let path = request_line.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = data[header_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Ok(Some(Seen {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }))
}
