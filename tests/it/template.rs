//! `consume --template`: the same mapping written as a SAM template, a CloudFormation JSON
//! template, a serverless.yml and a Terraform file resolves to the same settings, each with
//! where it came from.

use std::path::PathBuf;

use kinlocal::deploy::{self, Format};
use serde_json::json;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/templates")
        .join(name)
}

fn expected() -> serde_json::Value {
    json!({
        "FunctionName": "orders-processor",
        "Handler": "handler.main",
        "Runtime": "python3.12",
        "Timeout": 30,
        "MemorySize": 256,
        "Environment": {"LOG_LEVEL": "debug", "TABLE": "orders"},
        "Stream": "orders",
        "BatchSize": 250,
        "MaximumBatchingWindowInSeconds": 2,
        "StartingPosition": "TRIM_HORIZON",
        "ParallelizationFactor": 4,
        "MaximumRetryAttempts": 3,
        "MaximumRecordAgeInSeconds": 3600,
        "BisectBatchOnFunctionError": true,
        "ReportBatchItemFailures": true,
        "TumblingWindowInSeconds": 60,
        "FilterCriteria": [
            r#"{"data":{"type":["buy"]}}"#,
            r#"{"partitionKey":[{"prefix":"vip-"}]}"#
        ],
        "OnFailureDestination": "arn:aws:sqs:us-east-1:000000000000:orders-dlq",
        "Enabled": true
    })
}

#[test]
fn four_formats_resolve_to_the_same_mapping() {
    let cases = [
        ("sam.yaml", "OrdersProcessor", Format::Sam),
        ("cloudformation.json", "orders-processor", Format::CloudFormation),
        ("serverless.yml", "processor", Format::Serverless),
        ("main.tf", "processor", Format::Terraform),
    ];
    for (file, function, format) in cases {
        let m = match deploy::load(&fixture(file), function, None) {
            Ok(m) => m,
            Err(e) => panic!("{file}: {e}"),
        };
        assert_eq!(m.format, Some(format), "{file}");
        assert_eq!(m.values(), expected(), "{file}");
        // The only warning: an SQS destination cannot be written to locally.
        assert_eq!(m.warnings.len(), 1, "{file}: {:?}", m.warnings);
        assert!(
            m.warnings[0].contains("orders-dlq is not reachable locally"),
            "{file}: {:?}",
            m.warnings
        );
        // Every value says where it came from, in that file.
        for (name, _, source) in m.lines() {
            assert!(
                source.starts_with(file) || source.contains(" + "),
                "{file}: {name} from {source}"
            );
        }
    }
}

#[test]
fn sources_name_the_exact_place_in_each_file() {
    let find = |file: &str, function: &str, setting: &str| {
        let m = deploy::load(&fixture(file), function, None).unwrap_or_else(|e| panic!("{e}"));
        m.lines()
            .into_iter()
            .find(|(n, _, _)| n == setting)
            .map(|(_, _, s)| s)
            .unwrap_or_default()
    };
    assert_eq!(
        find("sam.yaml", "orders-processor", "BatchSize"),
        "sam.yaml: Resources.OrdersProcessor.Properties.Events.Orders.Properties.BatchSize"
    );
    assert_eq!(
        find("sam.yaml", "OrdersProcessor", "Runtime"),
        "sam.yaml: Globals.Function.Runtime"
    );
    assert_eq!(
        find("cloudformation.json", "OrdersProcessor", "Stream"),
        "cloudformation.json: Resources.OrdersMapping.Properties.EventSourceArn"
    );
    assert_eq!(
        find(
            "serverless.yml",
            "orders-processor",
            "MaximumBatchingWindowInSeconds"
        ),
        "serverless.yml: functions.processor.events[0].stream.batchWindow"
    );
    assert_eq!(
        find("serverless.yml", "processor", "MemorySize"),
        "serverless.yml: provider.memorySize"
    );
    assert_eq!(
        find("main.tf", "orders-processor", "ParallelizationFactor"),
        "main.tf: aws_lambda_event_source_mapping.orders.parallelization_factor"
    );
}

#[test]
fn a_missing_function_lists_the_ones_there() {
    for (file, listed) in [
        ("sam.yaml", "OrdersProcessor"),
        ("cloudformation.json", "OrdersProcessor"),
        ("serverless.yml", "processor"),
        ("main.tf", "aws_lambda_function.processor"),
    ] {
        let e = deploy::load(&fixture(file), "nope", None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("no function named nope") && e.contains(listed),
            "{file}: {e}"
        );
    }
}

#[test]
fn serverless_defaults_are_named_as_such_and_unknown_settings_warned() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("serverless.yml");
    std::fs::write(
        &path,
        "service: s\nfunctions:\n  f:\n    handler: h.main\n    events:\n      - stream:\n          arn: arn:aws:kinesis:us-east-1:1:stream/clicks\n          kmsKeyArn: k\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let m = deploy::load(&path, "s-dev-f", None).unwrap_or_else(|e| panic!("{e}"));
    let v = m.values();
    assert_eq!(v["BatchSize"], 10, "Serverless's default, not Lambda's 100");
    assert_eq!(v["StartingPosition"], "TRIM_HORIZON");
    assert_eq!(v["Stream"], "clicks");
    let batch = m.batch_size.map(|b| b.source).unwrap_or_default();
    assert!(batch.starts_with("Serverless Framework default"), "{batch}");
    assert!(
        m.warnings.iter().any(|w| w.contains("kmsKeyArn is not emulated")),
        "{:?}",
        m.warnings
    );
}

#[test]
fn a_consumer_arn_means_enhanced_fan_out() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("template.yaml");
    std::fs::write(
        &path,
        r"
Resources:
  S:
    Type: AWS::Kinesis::Stream
    Properties: {Name: clicks}
  C:
    Type: AWS::Kinesis::StreamConsumer
    Properties:
      ConsumerName: fast
      StreamARN: !GetAtt S.Arn
  F:
    Type: AWS::Serverless::Function
    Properties:
      Handler: a.b
      Events:
        E:
          Type: Kinesis
          Properties:
            Stream: !GetAtt C.ConsumerARN
            StartingPosition: LATEST
            KmsKeyArn: arn:aws:kms:us-east-1:1:key/x
",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let m = deploy::load(&path, "F", None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.values()["Stream"], "clicks");
    assert_eq!(m.values()["Consumer"], "fast");
    assert!(
        m.warnings.iter().any(|w| w.contains("KmsKeyArn is not emulated")),
        "{:?}",
        m.warnings
    );
}

#[test]
fn dry_run_prints_each_value_with_its_source_and_flags_override() {
    for (file, function) in [
        ("sam.yaml", "OrdersProcessor"),
        ("cloudformation.json", "orders-processor"),
        ("serverless.yml", "processor"),
        ("main.tf", "processor"),
    ] {
        let out = crate::support::kinlocal()
            .args(["consume", "--dry-run", "--function", function, "--template"])
            .arg(fixture(file))
            .args(["--batch-size", "7"])
            .assert()
            .success();
        let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        let line = |name: &str| {
            stdout
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{name} ")))
                .unwrap_or_default()
                .to_string()
        };
        assert!(
            line("BatchSize").contains(" 7 ") && line("BatchSize").contains("from --batch-size (overrides"),
            "{file}: {stdout}"
        );
        assert!(
            line("ParallelizationFactor").contains(" 4 ")
                && line("ParallelizationFactor").contains(&format!("from {file}")),
            "{file}: {stdout}"
        );
        assert!(line("Stream").contains("orders"), "{file}: {stdout}");
        assert!(line("FilterCriteria").contains("vip-"), "{file}: {stdout}");
        assert!(
            stdout.contains("warning: the on-failure destination"),
            "{file}: {stdout}"
        );
        assert!(
            !stdout.contains("warning: ParallelizationFactor"),
            "{file}: ParallelizationFactor is applied, not warned about: {stdout}"
        );
    }
    // A flag overrides the file's ParallelizationFactor too.
    let out = crate::support::kinlocal()
        .args(["consume", "--dry-run", "--function", "processor", "--template"])
        .arg(fixture("serverless.yml"))
        .args(["--parallelization-factor", "2"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        stdout
            .lines()
            .any(|l| l.trim_start().starts_with("ParallelizationFactor ")
                && l.contains(" 2 ")
                && l.contains("from --parallelization-factor (overrides serverless.yml")),
        "{stdout}"
    );
}

#[test]
fn template_errors_exit_2() {
    let out = crate::support::kinlocal()
        .args(["consume", "--dry-run", "--function", "Nope", "--template"])
        .arg(fixture("sam.yaml"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("no function named Nope") && stderr.contains("OrdersProcessor"),
        "{stderr}"
    );
    crate::support::kinlocal()
        .args(["consume", "--dry-run", "--function", "F"])
        .assert()
        .code(2);
}

/// The template's settings drive a real run: its filters pick the records, its stream is read.
#[test]
fn a_template_run_uses_the_files_settings() {
    let rig = crate::consume::Rig::new();
    rig.stream("orders", 1);
    rig.put("orders", "a", br#"{"type": "buy", "id": 1}"#);
    rig.put("orders", "a", br#"{"type": "sell", "id": 2}"#);
    rig.put("orders", "vip-1", b"not json");
    let out = rig
        .consume("orders", &crate::consume::fixture("capture.sh"))
        .args(["--function", "OrdersProcessor", "--template"])
        .arg(fixture("sam.yaml"))
        // The file's 60 s tumbling window needs a function that returns a state (see
        // consume_window); capture.sh returns nothing, so the window is turned off here.
        .args(["--tumbling-window", "0"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    // ParallelizationFactor 4 is applied: batches go out per lane (key "a" is lane 1 of 4).
    assert!(!stderr.contains("warning: ParallelizationFactor"), "{stderr}");
    assert!(
        stderr.contains("shardId-000000000000 lane 1 1 record(s)"),
        "{stderr}"
    );
    let mut ids: Vec<String> = crate::consume::delivered(&rig.captured())
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    // base64 of the buy record and of the vip record; the sell record is filtered out. The
    // two keys may be in different lanes, so their relative order is not fixed.
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    ids.sort();
    let mut want = vec![b64(br#"{"type": "buy", "id": 1}"#), b64(b"not json")];
    want.sort();
    assert_eq!(ids, want);
}
