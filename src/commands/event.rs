//! `kinlocal event`: gather the records' data from the flags, print the event.

use rand::SeedableRng as _;

use crate::cli::EventArgs;
use crate::exit::{ExitError, SUCCESS};
use crate::producer::clock::EventClock;
use crate::producer::generate::EventGenerator;
use crate::producer::replay::Replay;
use crate::sample::{self, SampleRecord, SampleSource};

/// Runs `kinlocal event`.
pub fn run(args: EventArgs) -> anyhow::Result<i32> {
    let records = records(&args)?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let source = SampleSource {
        stream_arn: format!(
            "arn:aws:kinesis:{}:{}:stream/{}",
            args.region, args.account_id, args.stream
        ),
        shard_id: crate::tail::shard_id(&args.shard_id),
        region: args.region.clone(),
        role_arn: args
            .role_arn
            .clone()
            .unwrap_or_else(|| format!("arn:aws:iam::{}:role/lambda-role", args.account_id)),
        partition_key: args.partition_key.clone(),
        first_arrival_ms: now_ms,
        tumbling_window: args.tumbling_window,
    };
    let mut bytes = sample::build(&source, &records);
    if args.pretty {
        let v: serde_json::Value = serde_json::from_slice(&bytes)?;
        bytes = serde_json::to_vec_pretty(&v)?;
    }
    bytes.push(b'\n');
    super::write_stdout(&bytes)?;
    Ok(SUCCESS)
}

fn records(args: &EventArgs) -> Result<Vec<SampleRecord>, ExitError> {
    if let Some(n) = args.random {
        let mut rng = match args.seed {
            Some(s) => rand::rngs::StdRng::seed_from_u64(s),
            None => rand::rngs::StdRng::from_os_rng(),
        };
        let mut gen = EventGenerator::new(200, EventClock::new(args.seed.is_some()));
        return Ok((0..n).map(|_| gen.next(&mut rng).into()).collect());
    }
    let Some(path) = &args.records_from else {
        return Ok(args.record.iter().map(|r| r.as_bytes().to_vec().into()).collect());
    };
    let what = path.display();
    let reader: Box<dyn std::io::BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(path)
            .map_err(|e| ExitError::usage(format!("--records-from {what}: cannot read it: {e}")))?;
        Box::new(std::io::BufReader::new(f))
    };
    // The lines `produce --from` replays: data lines, or the record lines of `tail --json`.
    let mut replay = Replay::new(reader);
    let mut out = Vec::new();
    while let Some(r) = replay
        .next_record()
        .map_err(|e| ExitError::usage(format!("--records-from {what}: {e}")))?
    {
        out.push(SampleRecord {
            data: r.data,
            partition_key: r.key.map(|k| k.partition_key),
        });
    }
    if out.is_empty() {
        return Err(ExitError::usage(format!(
            "--records-from {what}: no records in it"
        )));
    }
    Ok(out)
}
