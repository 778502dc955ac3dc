//! Commit throughput and latency of a replicated store under concurrent
//! writers: a Barn cluster through its REST API, or etcd through its gRPC
//! `KV.Put`. Each client keeps one connection to one endpoint (client `i`
//! to endpoint `i mod n`) and writes one small record at a time, as fast
//! as the acknowledgements come back. Run through `bench/barn/throughput.sh`,
//! which starts both stores the same way (fsync on) in the same run.
//!
//! ```text
//! commit_bench barn|etcd URL[,URL...] CLIENTS SECONDS
//! ```
//!
//! Prints one line: `writes=… errors=… secs=… writes_per_s=… p50_ms=… p99_ms=…`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, Bytes};
use http_body_util::{BodyExt, Full};
use hyper::Method;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use runink_barn::{ClientId, Command, NodeId, Outcome, Request, RequestId};
use tokio::net::TcpStream;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::{Channel, Endpoint};

/// Keys each client cycles through: the stores keep a bounded set of
/// records (the Barn's nodes table), overwritten again and again.
const KEYS_PER_CLIENT: u64 = 16;

/// The Barn's node ids the benchmark writes start here, far above any real
/// node's id.
const BARN_KEY_BASE: u64 = 2_000_000_000;

/// How long one write may take before the client counts it as an error.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// etcd's unary put (`etcdserverpb.KV/Put`).
const ETCD_PUT: &str = "/etcdserverpb.KV/Put";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Barn,
    Etcd,
}

struct Args {
    target: Target,
    endpoints: Vec<String>,
    clients: u64,
    duration: Duration,
}

fn parse_args() -> Result<Args, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [target, endpoints, clients, secs] = args.as_slice() else {
        return Err("usage: commit_bench barn|etcd URL[,URL...] CLIENTS SECONDS".into());
    };
    let target = match target.as_str() {
        "barn" => Target::Barn,
        "etcd" => Target::Etcd,
        other => return Err(format!("unknown target `{other}`: use barn or etcd")),
    };
    let endpoints: Vec<String> = endpoints.split(',').map(str::to_owned).collect();
    let clients: u64 = clients
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("CLIENTS must be a positive whole number, not `{clients}`"))?;
    let secs: f64 = secs
        .parse()
        .ok()
        .filter(|&s: &f64| s > 0.0)
        .ok_or_else(|| format!("SECONDS must be a positive number, not `{secs}`"))?;
    Ok(Args {
        target,
        endpoints,
        clients,
        duration: Duration::from_secs_f64(secs),
    })
}

/// What one client did: the latency of each acknowledged write, and the
/// writes that failed.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn record(&mut self, started: Instant, result: Result<(), String>) {
        match result {
            Ok(()) => {
                let us = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
                self.latencies_us.push(us);
            }
            Err(why) => {
                self.errors += 1;
                self.first_error.get_or_insert(why);
            }
        }
    }
}

/// One connection to a Barn node's REST API (HTTP/1.1, kept alive).
struct BarnWriter {
    sender: http1::SendRequest<Full<Bytes>>,
    host: String,
    client: ClientId,
    seq: u64,
}

impl BarnWriter {
    async fn connect(url: &str) -> Result<Self, String> {
        let host = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let stream = TcpStream::connect(&host)
            .await
            .map_err(|e| format!("cannot connect to {url}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake with {url}: {e}"))?;
        tokio::spawn(connection);
        Ok(Self {
            sender,
            host,
            client: ClientId::fresh(),
            seq: 0,
        })
    }

    async fn write(&mut self, key: u64) -> Result<(), String> {
        self.seq += 1;
        let request = Request::new(
            RequestId::new(self.client, self.seq),
            Command::RegisterNode {
                node: NodeId(BARN_KEY_BASE + key),
                addr: format!("v{}", self.seq),
                agent: false,
                at_ms: 0,
            },
        );
        let body = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
        let http_request = hyper::Request::builder()
            .method(Method::POST)
            .uri("/v1/requests")
            .header(hyper::header::HOST, &self.host)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        self.sender
            .ready()
            .await
            .map_err(|e| format!("connection lost: {e}"))?;
        let response = self
            .sender
            .send_request(http_request)
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("response body: {e}"))?
            .to_bytes();
        if !status.is_success() {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
        }
        match serde_json::from_slice::<Outcome>(&body) {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(refusal)) => Err(format!("refused: {refusal}")),
            Err(e) => Err(format!("unreadable outcome: {e}")),
        }
    }
}

/// A tonic codec that sends bytes as they are and returns the reply's bytes:
/// enough for etcd's `PutRequest`, encoded by hand in [`put_request`].
#[derive(Default)]
struct RawCodec;

struct RawEncoder;
struct RawDecoder;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Bytes;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// etcd's `PutRequest { key = 1; value = 2; }` in protobuf's wire format;
/// both fields are shorter than 128 bytes, so each length is one byte.
fn put_request(key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(4 + key.len() + value.len());
    for (tag, field) in [(0x0a_u8, key), (0x12, value)] {
        let len = u8::try_from(field.len()).unwrap_or(u8::MAX).min(127);
        message.push(tag);
        message.push(len);
        message.extend_from_slice(&field[..usize::from(len)]);
    }
    message
}

/// One HTTP/2 connection to an etcd member's gRPC port.
struct EtcdWriter {
    grpc: tonic::client::Grpc<Channel>,
    client: u64,
    seq: u64,
}

impl EtcdWriter {
    async fn connect(url: &str, client: u64) -> Result<Self, String> {
        let channel = Endpoint::from_shared(url.to_owned())
            .map_err(|e| format!("bad endpoint {url}: {e}"))?
            .tcp_nodelay(true)
            .connect()
            .await
            .map_err(|e| format!("cannot connect to {url}: {e}"))?;
        Ok(Self {
            grpc: tonic::client::Grpc::new(channel),
            client,
            seq: 0,
        })
    }

    async fn write(&mut self, key: u64) -> Result<(), String> {
        self.seq += 1;
        let key = format!("bench/{}/{key}", self.client);
        let value = format!("v{}", self.seq);
        self.grpc
            .ready()
            .await
            .map_err(|e| format!("connection lost: {e}"))?;
        self.grpc
            .unary::<_, Bytes, _>(
                tonic::Request::new(put_request(key.as_bytes(), value.as_bytes())),
                http::uri::PathAndQuery::from_static(ETCD_PUT),
                RawCodec,
            )
            .await
            .map(drop)
            .map_err(|status| format!("put failed: {status}"))
    }
}

enum Writer {
    Barn(BarnWriter),
    Etcd(EtcdWriter),
}

impl Writer {
    async fn connect(target: Target, url: &str, client: u64) -> Result<Self, String> {
        Ok(match target {
            Target::Barn => Self::Barn(BarnWriter::connect(url).await?),
            Target::Etcd => Self::Etcd(EtcdWriter::connect(url, client).await?),
        })
    }

    async fn write(&mut self, key: u64) -> Result<(), String> {
        let write = async {
            match self {
                Self::Barn(w) => w.write(key).await,
                Self::Etcd(w) => w.write(key).await,
            }
        };
        tokio::time::timeout(WRITE_TIMEOUT, write)
            .await
            .unwrap_or_else(|_| Err(format!("no answer in {WRITE_TIMEOUT:?}")))
    }
}

/// Writes one record at a time until `until`.
async fn client(mut writer: Writer, index: u64, until: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut n = 0;
    while Instant::now() < until {
        let key = index * KEYS_PER_CLIENT + n % KEYS_PER_CLIENT;
        n += 1;
        let started = Instant::now();
        let result = writer.write(key).await;
        tally.record(started, result);
    }
    tally
}

fn percentile_ms(sorted_us: &[u32], fraction: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let last = sorted_us.len() - 1;
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let at = ((last as f64) * fraction).round() as usize;
    f64::from(sorted_us[at.min(last)]) / 1000.0
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(why) => {
            eprintln!("{why}");
            return ExitCode::from(2);
        }
    };
    let mut writers = Vec::new();
    for index in 0..args.clients {
        let slot = usize::try_from(index).unwrap_or(usize::MAX) % args.endpoints.len();
        match Writer::connect(args.target, &args.endpoints[slot], index).await {
            Ok(w) => writers.push(w),
            Err(why) => {
                eprintln!("{why}");
                return ExitCode::from(3);
            }
        }
    }
    let started = Instant::now();
    let until = started + args.duration;
    let tasks: Vec<_> = writers
        .into_iter()
        .zip(0..)
        .map(|(writer, index)| tokio::spawn(client(writer, index, until)))
        .collect();
    let mut latencies_us = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for task in tasks {
        match task.await {
            Ok(tally) => {
                latencies_us.extend(tally.latencies_us);
                errors += tally.errors;
                first_error = first_error.or(tally.first_error);
            }
            Err(e) => {
                eprintln!("a client task failed: {e}");
                return ExitCode::from(3);
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    latencies_us.sort_unstable();
    let writes = latencies_us.len();
    #[allow(clippy::cast_precision_loss)]
    let rate = writes as f64 / secs;
    println!(
        "writes={writes} errors={errors} secs={secs:.2} writes_per_s={rate:.0} p50_ms={:.2} p99_ms={:.2}",
        percentile_ms(&latencies_us, 0.50),
        percentile_ms(&latencies_us, 0.99),
    );
    if let Some(why) = first_error {
        eprintln!("first error: {why}");
    }
    if writes == 0 {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
