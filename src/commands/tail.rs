//! `kinlocal tail`: turn the flags into tail settings, print each record as asked.

use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use base64::Engine as _;

use crate::cli::{TailArgs, TailStart};
use crate::esm::filter::{FilterCriteria, RecordView};
use crate::exit::{ExitError, SUCCESS};
use crate::producer::replay::RecordLine;
use crate::tail::{self, Start, TailSettings, TailedRecord};

/// The most patterns Lambda accepts in one FilterCriteria (without a quota increase).
const MAX_FILTERS: usize = 10;

/// How each record is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// One record line: AWS's member names, data in base64 (what `produce --from` replays).
    Json,
    /// Data base64-encoded.
    Base64,
    /// JSON data pretty-printed (a terminal).
    Pretty,
    /// The bytes as they are, then a newline.
    Raw,
}

/// Runs `kinlocal tail`.
pub fn run(args: TailArgs) -> anyhow::Result<i32> {
    let start = match (&args.after_sequence_number, args.starting_position, args.starting_position_timestamp) {
        (Some(seq), _, None) => Start::AfterSequenceNumber(seq.clone()),
        (Some(_), _, Some(_)) => {
            return Err(ExitError::usage("--starting-position-timestamp goes with --starting-position at-timestamp, not --after-sequence-number").into())
        }
        (None, TailStart::AtTimestamp, Some(ms)) => Start::AtTimestamp(ms),
        (None, TailStart::AtTimestamp, None) => {
            return Err(ExitError::usage("--starting-position at-timestamp needs --starting-position-timestamp TIME").into())
        }
        (None, _, Some(_)) => {
            return Err(ExitError::usage("--starting-position-timestamp needs --starting-position at-timestamp").into())
        }
        (None, TailStart::TrimHorizon, None) => Start::TrimHorizon,
        (None, TailStart::Latest, None) => Start::Latest,
    };
    let filter = if args.filter.is_empty() {
        None
    } else {
        Some(
            FilterCriteria::compile(&args.filter, MAX_FILTERS)
                .map_err(|e| ExitError::usage(format!("--filter: {e}")))?,
        )
    };
    let format = if args.json {
        Format::Json
    } else if args.base64 {
        Format::Base64
    } else if std::io::stdout().is_terminal() {
        Format::Pretty
    } else {
        Format::Raw
    };
    super::runtime()?.block_on(async move {
        let clients = super::connect(&args.endpoint).await?;
        let aws = !clients.endpoint.is_local();
        let settings = TailSettings {
            stream: args.stream.clone(),
            start,
            shard: args.shard.clone(),
            follow: args.follow,
            // AWS allows 5 GetRecords per second per shard; a local endpoint has no such limit.
            min_poll_interval: if aws {
                Duration::from_millis(200)
            } else {
                Duration::ZERO
            },
            idle_pause: if aws {
                Duration::from_secs(1)
            } else {
                Duration::from_millis(100)
            },
        };
        let region = clients.endpoint.region.clone();
        let stream_arn = format!("arn:aws:kinesis:{region}:000000000000:stream/{}", args.stream);
        let mut printed = 0u64;
        let mut out = std::io::stdout().lock();
        let each = |r: TailedRecord| {
            if args
                .partition_key
                .as_deref()
                .is_some_and(|k| k != r.partition_key)
            {
                return true;
            }
            if let Some(f) = &filter {
                let view = RecordView {
                    data: &r.data,
                    partition_key: &r.partition_key,
                    sequence_number: &r.sequence_number,
                    arrival_ms: r.arrival_ms,
                    shard_id: &r.shard_id,
                    role_arn: "",
                    region: &region,
                    stream_arn: &stream_arn,
                };
                if !f.matches(&view) {
                    return true;
                }
            }
            let line = render(&r, format);
            // A closed pipe (`kinlocal tail -f | head -3`) ends the tail quietly.
            if out.write_all(&line).and_then(|()| out.flush()).is_err() {
                return false;
            }
            printed += 1;
            args.count.is_none_or(|n| printed < n)
        };
        tokio::select! {
            r = tail::tail(&clients.kinesis, &settings, each) => {
                r.map_err(|e| ExitError::new((&e).into(), e.to_string()))?;
            }
            () = super::serve::shutdown_signal() => {}
        }
        Ok(SUCCESS)
    })
}

/// One record's output line.
fn render(r: &TailedRecord, format: Format) -> Vec<u8> {
    let data = &r.data;
    let mut line = match format {
        Format::Base64 => base64::engine::general_purpose::STANDARD
            .encode(data)
            .into_bytes(),
        Format::Raw => data.clone(),
        Format::Json => {
            let record = RecordLine::read(
                &r.shard_id,
                &r.sequence_number,
                r.arrival_ms,
                &r.partition_key,
                data,
            );
            // Strings and a number only: serializing cannot fail.
            serde_json::to_vec(&record).unwrap_or_default()
        }
        Format::Pretty => match serde_json::from_slice::<serde_json::Value>(data) {
            Ok(v) => serde_json::to_vec_pretty(&v).unwrap_or_else(|_| data.clone()),
            Err(_) => String::from_utf8_lossy(data).into_owned().into_bytes(),
        },
    };
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(data: &[u8]) -> TailedRecord {
        TailedRecord {
            shard_id: "shardId-000000000000".into(),
            partition_key: "k".into(),
            sequence_number: "1".into(),
            arrival_ms: 1_500,
            data: data.to_vec(),
        }
    }

    #[test]
    fn each_format_prints_one_line() {
        assert_eq!(
            render(&record(b"\xff\x00"), Format::Json),
            br#"{"ShardId":"shardId-000000000000","SequenceNumber":"1","ApproximateArrivalTimestamp":1.5,"PartitionKey":"k","Data":"/wA="}
"#
            .to_vec()
        );
        assert_eq!(render(&record(b"hi"), Format::Base64), b"aGk=\n".to_vec());
        assert_eq!(render(&record(b"hi"), Format::Raw), b"hi\n".to_vec());
        assert_eq!(
            render(&record(br#"{"a":1}"#), Format::Pretty),
            b"{\n  \"a\": 1\n}\n".to_vec()
        );
    }
}
