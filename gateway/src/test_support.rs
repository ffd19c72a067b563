//! What the gateway's unit tests build their inputs from: a schema index and an operation, from text.

use hive_router_query_planner::ast::operation::OperationDefinition;

use crate::schema::SchemaIndex;

/// The index of a test SDL.
pub(crate) fn schema_index(sdl: &str) -> SchemaIndex {
    SchemaIndex::new(
        graphql_tools::parser::parse_schema::<String>(sdl)
            .expect("the test SDL parses")
            .into_static(),
    )
}

/// The first operation of a test document.
pub(crate) fn operation(query: &str) -> OperationDefinition {
    let document = graphql_tools::parser::parse_query::<String>(query).expect("the query parses");
    document
        .definitions
        .into_iter()
        .find_map(|d| match d {
            graphql_tools::parser::query::Definition::Operation(op) => Some(op),
            graphql_tools::parser::query::Definition::Fragment(_) => None,
        })
        .expect("an operation")
        .into()
}

/// The body every [`TestSubgraph`] answers with when it succeeds.
pub(crate) const TEST_ANSWER: &str = r#"{"data":{}}"#;

/// A minimal HTTP/1.1 subgraph on its own threads: counts connections, records raw requests, answers each after
/// `delay` with [`TEST_ANSWER`] (or a 500 without a GraphQL body when it fails), and closes the connection after
/// each answer when `close` is set (without saying so, as a subgraph dropping an idle socket would).
pub(crate) struct TestSubgraph {
    addr: std::net::SocketAddr,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl TestSubgraph {
    /// A subgraph that answers every request.
    pub(crate) fn start(delay: std::time::Duration, close: bool) -> Self {
        Self::spawn(delay, close, false)
    }

    /// A subgraph that fails every request with a 500.
    pub(crate) fn failing(delay: std::time::Duration) -> Self {
        Self::spawn(delay, false, true)
    }

    fn spawn(delay: std::time::Duration, close: bool, fail: bool) -> Self {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        let addr = listener.local_addr().expect("local address");
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (counter, recorder) = (accepted.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                let recorder = recorder.clone();
                std::thread::spawn(move || serve(stream, &recorder, delay, close, fail));
            }
        });
        Self {
            addr,
            accepted,
            requests,
        }
    }

    /// Its `/graphql` URL.
    pub(crate) fn uri(&self) -> http::Uri {
        format!("http://{}/graphql", self.addr)
            .parse()
            .expect("a valid URL")
    }

    /// Connections it accepted.
    pub(crate) fn connections(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The raw requests it received, oldest first.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("recorder lock").clone()
    }
}

fn serve(
    mut stream: std::net::TcpStream,
    recorder: &std::sync::Mutex<Vec<String>>,
    delay: std::time::Duration,
    close: bool,
    fail: bool,
) {
    use std::io::{Read, Write};
    let mut buffer = Vec::new();
    loop {
        let request = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
                let length: usize = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                let total = end + 4 + length;
                if buffer.len() >= total {
                    let request = String::from_utf8_lossy(&buffer[..total]).into_owned();
                    buffer.drain(..total);
                    break request;
                }
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        recorder.lock().expect("recorder lock").push(request);
        std::thread::sleep(delay);
        let (status, body) = if fail {
            ("500 Internal Server Error", "oops")
        } else {
            ("200 OK", TEST_ANSWER)
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(response.as_bytes()).is_err() || close {
            let _ = stream.shutdown(std::net::Shutdown::Both);
            return;
        }
    }
}
