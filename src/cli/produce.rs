//! Arguments of `kinlocal produce`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::EndpointArgs;

/// `kinlocal produce`: send records to a stream with PutRecords.
#[derive(Debug, Args)]
pub struct ProduceArgs {
    /// Stream to send to.
    #[arg(long, short = 's', value_name = "NAME", default_value = crate::streams::DEFAULT_STREAM)]
    pub stream: String,
    /// Create the stream with N shards when it does not exist (an existing stream must have N).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub shards: Option<u32>,
    /// Stop after N records (default: run until Ctrl+C, or until the end of --from).
    #[arg(long, short = 'n', value_name = "N", conflicts_with = "duration",
          allow_negative_numbers = true, value_parser = super::values::positive_count)]
    pub count: Option<u64>,
    /// Stop after this long (e.g. 30s, 5m).
    #[arg(long, short = 'd', value_name = "DURATION", value_parser = super::values::positive_duration)]
    pub duration: Option<Duration>,
    /// Records per second to hold (default: as fast as the endpoint takes them).
    #[arg(long, short = 'r', value_name = "R", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Records per PutRecords request (1 to 500).
    #[arg(long, value_name = "N", default_value_t = 500,
          value_parser = clap::value_parser!(u16).range(1..=500))]
    pub batch_size: u16,
    /// PutRecords requests in flight at once (random partition keys only; per-key ordering
    /// with a fixed or field: key needs one at a time).
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub max_in_flight: u16,
    /// Generate records from a JSON template with {{placeholders}} (see the README).
    #[arg(long, short = 't', value_name = "FILE", conflicts_with = "from")]
    pub template: Option<PathBuf>,
    /// Replay newline-delimited JSON from FILE, or from stdin with '-'; bytes are sent unchanged.
    #[arg(long, short = 'f', value_name = "FILE|-")]
    pub from: Option<PathBuf>,
    /// Size in bytes of each generated record (random events only).
    #[arg(long, value_name = "BYTES", default_value_t = 200,
          conflicts_with_all = ["template", "from"],
          value_parser = clap::value_parser!(u32).range(1..=1_048_000))]
    pub record_size: u32,
    /// Partition key: 'random', a fixed string, or 'field:PATH' (e.g. field:user.id) to take
    /// it from each record.
    #[arg(long, short = 'k', value_name = "KEY", default_value = "random",
          value_parser = crate::producer::partition::KeySpec::parse)]
    pub partition_key: crate::producer::partition::KeySpec,
    /// Seed for a reproducible sequence of records and partition keys.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Where to talk to.
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!("'{s}' is not a positive number of records per second")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_must_be_positive() {
        assert!(parse_rate("100").is_ok());
        assert!(parse_rate("0.5").is_ok());
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("-3").is_err());
        assert!(parse_rate("fast").is_err());
    }
}
