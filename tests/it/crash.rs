//! The crash test: a child `ledger debug append-stress` appends from several tasks while this test
//! kills it with SIGKILL at random moments, again and again on the same file. After every kill the
//! store is reopened and must hold every acknowledged event at its acknowledged position, with no
//! gap in the positions or in any stream's revisions, and an intact hash chain.
//!
//! SIGKILL stops the process at an arbitrary instruction, mid-transaction or mid-fsync included;
//! what it cannot show is a power cut, for which the argument is `synchronous = FULL` (see the
//! writer's module docs). The random delays come from a seed printed at the start; set
//! `LEDGER_CRASH_SEED` to replay a run.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::io::{BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use ledger::store::{EventStore, Progress, SqliteStore};
use uuid::Uuid;

use crate::store_support::temp_ledger;

/// A small xorshift generator: enough randomness for kill timing, reproducible from its seed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// Parses the child's complete `ack <event_id> <position>` lines; a line cut short by the kill (no
/// newline) is not an acknowledgement the child finished making, so it is not counted.
pub(crate) fn parse_acks(output: &[u8]) -> Vec<(Uuid, u64)> {
    let mut acks = Vec::new();
    for line in output.split_inclusive(|b| *b == b'\n') {
        let Some(line) = line.strip_suffix(b"\n") else {
            continue;
        };
        let line = std::str::from_utf8(line).expect("ack lines are UTF-8");
        let mut parts = line.split(' ');
        assert_eq!(parts.next(), Some("ack"), "unexpected output line {line:?}");
        let id = Uuid::parse_str(parts.next().unwrap()).unwrap();
        let position = parts.next().unwrap().parse().unwrap();
        acks.push((id, position));
    }
    acks
}

/// Acknowledged appends survive SIGKILL at random moments (24 kills): after each reopen every
/// acknowledged event is at its position, positions and stream revisions have no gaps, and the
/// chain verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_appends_survive_sigkill_at_random_moments() {
    const KILLS: usize = 24;
    let temp = temp_ledger();
    let seed = std::env::var("LEDGER_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::hash::RandomState::new().hash_one(std::time::SystemTime::now()));
    eprintln!("crash test seed (LEDGER_CRASH_SEED) = {seed}");
    let mut rng = XorShift(seed | 1);
    let started = Instant::now();

    let mut acked: BTreeMap<u64, Uuid> = BTreeMap::new();
    let mut runs_with_acks = 0;
    for round in 0..KILLS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ledger"))
            .args(["debug", "append-stress", "--tasks", "4", "--ledger"])
            .arg(&temp.path)
            .env_remove("LEDGER_PATH")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ledger debug append-stress");
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            buf
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = BufReader::new(&mut err).read_to_string(&mut text);
            text
        });

        // Anywhere from during start-up (the file being created or opened) to well into appending.
        let delay = Duration::from_millis(10 + rng.next() % 340);
        tokio::time::sleep(delay).await;
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "round {round}: append-stress stopped by itself ({status}): {}",
                stderr.join().unwrap()
            );
        }
        child.kill().expect("SIGKILL the child");
        child.wait().unwrap();
        let acks = parse_acks(&stdout.join().unwrap());
        let _ = stderr.join();
        if !acks.is_empty() {
            runs_with_acks += 1;
        }
        for (id, position) in &acks {
            let previous = acked.insert(*position, *id);
            assert!(
                previous.is_none(),
                "round {round}: position {position} acknowledged twice ({previous:?} and {id})"
            );
        }

        // Reopen. Before the first acknowledgement the child may have died while creating the file:
        // opening with create must then still give a proper ledger.
        let store = if acked.is_empty() {
            SqliteStore::open(&temp.path)
        } else {
            SqliteStore::open_existing(&temp.path)
        }
        .unwrap_or_else(|e| panic!("round {round}: reopen after kill: {e}"));
        let head = store.head().await.unwrap();
        if let Some((&last, _)) = acked.last_key_value() {
            assert!(
                head >= last,
                "round {round}: head {head} < acknowledged {last}"
            );
        }

        let mut revisions: HashMap<String, u64> = HashMap::new();
        let mut expected_position = 1;
        let mut log = std::pin::pin!(store.stream_all(0, 1024));
        let mut by_position: BTreeMap<u64, Uuid> = BTreeMap::new();
        while let Some(event) = log.next().await {
            let event = event.unwrap();
            assert_eq!(
                event.position, expected_position,
                "round {round}: gap in positions"
            );
            expected_position += 1;
            let next = revisions.entry(event.stream.clone()).or_insert(0);
            assert_eq!(
                event.revision, *next,
                "round {round}: gap in the revisions of {}",
                event.stream
            );
            *next += 1;
            by_position.insert(event.position, event.event_id);
        }
        assert_eq!(
            expected_position - 1,
            head,
            "round {round}: the log ends at the head"
        );
        for (position, id) in &acked {
            assert_eq!(
                by_position.get(position),
                Some(id),
                "round {round}: acknowledged event {id} is not at position {position}"
            );
        }
        let report = store.verify(Progress::new()).await.unwrap();
        assert!(report.is_intact(), "round {round}: {report:?}");
        assert_eq!(report.verified, head);
        store.close().await;
    }
    eprintln!(
        "crash test: {KILLS} kills, {} acknowledged events kept, {runs_with_acks} runs acknowledged \
         something, {:.1} s",
        acked.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        runs_with_acks >= KILLS / 2,
        "only {runs_with_acks} of {KILLS} runs got to acknowledge an append"
    );
}

/// A final line without its newline (the child was killed while writing it) is not counted.
#[test]
fn cut_lines_are_not_acknowledgements() {
    let id = Uuid::now_v7();
    let out = format!("ack {id} 1\nack {id} 2\nack {id}");
    assert_eq!(parse_acks(out.as_bytes()), vec![(id, 1), (id, 2)]);
}
