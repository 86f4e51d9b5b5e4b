
use builtin;
use str;

set edit:completion:arg-completer[kinlocal] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'kinlocal'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'kinlocal'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand up 'Start a local Kinesis + DynamoDB endpoint (Docker containers or the embedded engine in the background), create the default stream and lease table, and record where it is'
            cand down 'Stop and remove what `kinlocal up` started'
            cand status 'Health, streams and shards, and each consumer''s checkpoint and lag; exit 0 when healthy'
            cand create-stream 'Create a stream (default ''kinlocal'') and wait until it is ACTIVE; an existing stream of the same shape is fine'
            cand delete-stream 'Delete a stream and wait until it is gone'
            cand list-streams 'List streams with their status, mode, shards and retention'
            cand produce 'Send records to a stream: random events, a template, or a replayed file'
            cand consume 'Run an executable as a Lambda function mapped to a Kinesis stream (event source mapping)'
            cand invoke 'Run the function once with a Kinesis event and print its return value (like `sam local invoke`, without Docker)'
            cand tail 'Print a stream''s records (all shards, from --starting-position); -f keeps following'
            cand event 'Print a Kinesis event exactly as `consume` delivers it, for a handler''s unit tests'
            cand serve 'Run the embedded Kinesis + DynamoDB engine in the foreground until SIGINT/SIGTERM'
            cand completions 'Print shell completions for kinlocal'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kinlocal;up'= {
            cand --backend 'Which backend: `docker` (containers through the docker CLI), `embedded` (`kinlocal serve` in the background), or `auto` (docker when a Docker daemon answers, else embedded)'
            cand -p 'Port on 127.0.0.1 for Kinesis (embedded: Kinesis and DynamoDB); 0 takes a free port'
            cand --port 'Port on 127.0.0.1 for Kinesis (embedded: Kinesis and DynamoDB); 0 takes a free port'
            cand --dynamodb-port 'Docker backend: port on 127.0.0.1 for DynamoDB [default: --port + 1, or free when --port is 0]'
            cand --stream 'A stream to create, NAME or NAME:SHARDS (repeatable) [default: kinlocal:3]'
            cand --persist 'Keep streams, records and tables in DIR across `down`/`up` (in memory otherwise)'
            cand --state-dir 'Where the state file and the engine log go [default: $XDG_STATE_HOME/kinlocal]'
            cand --region 'Region written into ARNs'
            cand --kinesis-image 'Docker backend: the Kinesis emulator image (serving plain HTTP on --kinesis-container-port)'
            cand --dynamodb-image 'Docker backend: the DynamoDB image (serving on --dynamodb-container-port)'
            cand --kinesis-container-port 'Docker backend: the plain-HTTP port inside the Kinesis container (kinesis-mock: 4568)'
            cand --dynamodb-container-port 'Docker backend: the port inside the DynamoDB container (dynamodb-local: 8000)'
            cand --name-prefix 'Docker backend: container names are PREFIX-kinesis and PREFIX-dynamodb (one prefix per parallel CI job)'
            cand --timeout 'How long to wait for the backend to answer ListStreams and ListTables'
            cand --write-profile 'Write AWS profile NAME (endpoint_url, region, dummy credentials) into the shared AWS config and credentials files; other profiles are left untouched'
            cand --print-env 'Print `export AWS_ENDPOINT_URL=… AWS_REGION=… AWS_DEFAULT_REGION=… AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…` on stdout (progress goes to stderr), for `eval "$(kinlocal up --print-env)"`'
            cand --json 'Print one JSON object on stdout (endpoints, region, backend, streams, and the `env` that --print-env would export); progress goes to stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kinlocal;down'= {
            cand --state-dir 'The state directory `up` used [default: $XDG_STATE_HOME/kinlocal]'
            cand --purge 'Also delete the data kept with `up --persist`'
            cand --json 'Print one JSON object on stdout: `{"was_up": bool, "actions": [...]}`'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kinlocal;status'= {
            cand --endpoint-url 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`'
            cand --profile 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)'
            cand --region 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)'
            cand --state-dir 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)'
            cand --aws 'Talk to real AWS (standard credential chain). Never done without this flag'
            cand --json 'Print one JSON object instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kinlocal;create-stream'= {
            cand --shards 'Number of shards (provisioned mode) [default: 1 for a new stream]. Given, an existing stream must have it; not given, an existing stream is accepted whatever its shard count'
            cand --retention-hours 'Retention period in hours, 24 to 8760 (new streams: 24). Given, an existing stream must have it too'
            cand --endpoint-url 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`'
            cand --profile 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)'
            cand --region 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)'
            cand --state-dir 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)'
            cand --on-demand 'On-demand capacity mode instead of a fixed shard count'
            cand --no-wait 'Return as soon as the stream is requested instead of waiting until it is ACTIVE'
            cand --json 'Print one JSON object on stdout: `{"created": bool, "stream": {...}}`'
            cand --aws 'Talk to real AWS (standard credential chain). Never done without this flag'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kinlocal;delete-stream'= {
            cand --endpoint-url 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`'
            cand --profile 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)'
            cand --region 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)'
            cand --state-dir 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)'
            cand --if-exists 'Succeed when the stream does not exist'
            cand --no-wait 'Return as soon as the deletion is requested instead of waiting until the stream is gone'
            cand --json 'Print one JSON object on stdout: `{"name": ..., "deleted": bool}`'
            cand --aws 'Talk to real AWS (standard credential chain). Never done without this flag'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kinlocal;list-streams'= {
            cand --endpoint-url 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`'
            cand --profile 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)'
            cand --region 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)'
            cand --state-dir 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)'
            cand --json 'Print a JSON array on stdout instead of a table'
            cand --aws 'Talk to real AWS (standard credential chain). Never done without this flag'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kinlocal;produce'= {
            cand -s 'Stream to send to'
            cand --stream 'Stream to send to'
            cand --shards 'Create the stream with N shards when it does not exist (an existing stream must have N)'
            cand -n 'Stop after N records (default: run until Ctrl+C, or until the end of --from)'
            cand --count 'Stop after N records (default: run until Ctrl+C, or until the end of --from)'
            cand -d 'Stop after this long (e.g. 30s, 5m)'
            cand --duration 'Stop after this long (e.g. 30s, 5m)'
            cand -r 'Records per second to hold (default: as fast as the endpoint takes them)'
            cand --rate 'Records per second to hold (default: as fast as the endpoint takes them)'
            cand --batch-size 'Records per PutRecords request (1 to 500)'
            cand --max-in-flight 'PutRecords requests in flight at once (random partition keys only; per-key ordering with a fixed or field: key needs one at a time)'
            cand -t 'Generate records from a JSON template with {{placeholders}} (see the README)'
            cand --template 'Generate records from a JSON template with {{placeholders}} (see the README)'
            cand -f 'Replay newline-delimited JSON from FILE, or from stdin with ''-''; bytes are sent unchanged'
            cand --from 'Replay newline-delimited JSON from FILE, or from stdin with ''-''; bytes are sent unchanged'
            cand --record-size 'Size in bytes of each generated record (random events only)'
            cand -k 'Partition key: ''random'', a fixed string, or ''field:PATH'' (e.g. field:user.id) to take it from each record'
            cand --partition-key 'Partition key: ''random'', a fixed string, or ''field:PATH'' (e.g. field:user.id) to take it from each record'
            cand --seed 'Seed for a reproducible sequence of records and partition keys'
            cand --endpoint-url 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`'
            cand --profile 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)'
            cand --region 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)'
            cand --state-dir 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)'
            cand --json 'Print the summary as one JSON object on stdout'
            cand --aws 'Talk to real AWS (standard credential chain). Never done without this flag'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kinlocal;consume'= {
            cand -s 'The stream to consume (name or ARN); optional when the endpoint has exactly one'
            cand --stream 'The stream to consume (name or ARN); optional when the endpoint has exactly one'
            cand -e 'The handler command line, split with shell quoting rules but never run through a shell (e.g. --exec ''python3 handler.py''); with --runtime-api, a Lambda bootstrap'
            cand --exec 'The handler command line, split with shell quoting rules but never run through a shell (e.g. --exec ''python3 handler.py''); with --runtime-api, a Lambda bootstrap'
            cand --handler 'The handler by name, as in the Lambda console: `[dir/]file.function` (e.g. src/app.handler); run with a bundled runtime client for --runtime'
            cand --runtime 'The Lambda runtime for --handler: python3.9 … python3.14, nodejs18.x … nodejs24.x'
            cand --task-root 'LAMBDA_TASK_ROOT for --handler, the directory the handler path is relative to (default: the handler''s own directory)'
            cand --layer 'A Lambda layer directory, laid out like /opt (python/, nodejs/node_modules, bin, lib); repeatable, in order'
            cand --python 'The Python interpreter for a python --runtime (default: python3.X if on PATH, else python3)'
            cand --node 'The Node.js binary for a nodejs --runtime (default: node)'
            cand --env 'An environment variable for the function (KEY=VALUE); repeatable; wins over --env-file and kinlocal''s own Lambda variables'
            cand --env-file 'A dotenv file of variables for the function (KEY=VALUE lines, # comments); repeatable'
            cand --watch 'With --runtime-api or --handler: hot reload. When a file under PATH changes (a directory is watched recursively; __pycache__, hidden files and editor backups are ignored), the warm processes are replaced before their next batch; a batch in flight finishes on the code it started with. Repeatable'
            cand --starting-position 'Where a shard with no checkpoint starts (StartingPosition)'
            cand --starting-position-timestamp 'With --starting-position at-timestamp: Unix seconds or an RFC 3339 time'
            cand -b 'Most records per invocation (BatchSize, 1-10000)'
            cand --batch-size 'Most records per invocation (BatchSize, 1-10000)'
            cand --maximum-batching-window 'How long to gather records before invoking (MaximumBatchingWindowInSeconds, 0-300s)'
            cand --poll-interval 'How often each shard is read when it has no backlog [default: 10ms against a local endpoint, whose empty reads kinlocal''s engine also holds open until a record arrives (15ms against one that answers at once); 200ms with --aws, AWS''s 5 GetRecords/s per shard, which is never exceeded]'
            cand --efo 'Read each shard through an enhanced fan-out consumer (SubscribeToShard, records pushed as they arrive) instead of polling GetRecords: CONSUMER_NAME (default: the --app name) is registered on the stream, or reused if it exists'
            cand --tumbling-window 'Group records into tumbling windows of this length by arrival time (TumblingWindowInSeconds, 1s-900s; 0 is off): each invocation carries the window and the state the previous one returned, and a final invocation closes each window'
            cand --parallelization-factor 'Batches of one shard in flight at once (ParallelizationFactor, 1-10): records go to lanes by partition key, so one key is always handled in order and never concurrently'
            cand --maximum-retry-attempts 'Retries of a failing batch (MaximumRetryAttempts): -1 is infinite, or 0-10000'
            cand --maximum-record-age 'Discard records older than this (MaximumRecordAgeInSeconds): -1 is infinite, or 60s-7d'
            cand --on-failure 'Where discarded batches go: a directory (one JSON file each, with the records, like an S3 destination) or stream:NAME (the record on another stream, like SQS/SNS)'
            cand -t 'Function timeout; the handler''s process group is killed after it (1s-900s like Lambda; shorter values are accepted locally)'
            cand --timeout 'Function timeout; the handler''s process group is killed after it (1s-900s like Lambda; shorter values are accepted locally)'
            cand --memory-size 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE for the handler (MB, 128-10240)'
            cand --function-name 'Function name in ARNs and AWS_LAMBDA_FUNCTION_NAME (default: the handler''s file name)'
            cand --role-arn 'Execution role ARN written as invokeIdentityArn (default: arn:aws:iam::ACCOUNT:role/lambda-role)'
            cand --account-id 'Account id in ARNs (default: the stream ARN''s account)'
            cand --app 'Lease table (KCL application) name holding the checkpoints (default: kinlocal-STREAM-FUNCTION)'
            cand --worker-id 'This consumer''s name in the lease table (leaseOwner); unique among the consumers of one --app (default: HOST:PID)'
            cand --failover-time 'Consumers sharing an --app take over a lease not renewed for this long (KCL''s failoverTimeMillis); held leases are renewed every third of it'
            cand --until-idle 'Exit once every shard this consumer holds is drained, nothing new arrived for DURATION, and no other shard is waiting for a consumer (none unowned or expired). A shard waiting to retry a failing batch makes no progress: if it waits for DURATION while nothing else moves, the run ends with exit 4 (stopped with undelivered records)'
            cand --max-records 'Stop after N records were delivered'
            cand --filter 'Deliver only records matching this FilterCriteria pattern (EventBridge syntax on the record''s JSON `data` and its metadata, e.g. ''{"data": {"type": ["buy"]}}''); repeatable, patterns are ORed. Records matching none are skipped and checkpointed past'
            cand --filter-file 'Read filter patterns from a file in the Lambda API''s shape: {"Filters": [{"Pattern": "{...}"}]}'
            cand --max-filters 'Most filters allowed (AWS''s quota: 5 by default, raisable to 10 on request)'
            cand --template 'Read the function and its Kinesis event source mapping from a deployment file: an AWS SAM or CloudFormation template (YAML or JSON), a serverless.yml, or Terraform (.tf file or directory). Flags given on the command line override the file'
            cand --function 'With --template: the function (logical id / config key, or its FunctionName)'
            cand --endpoint-url 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`'
            cand --profile 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)'
            cand --region 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)'
            cand --state-dir 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)'
            cand --runtime-api 'Run --exec as a Lambda bootstrap speaking the Runtime API (a lambda_runtime binary, `python3 -m awslambdaric app.handler`, aws-lambda-ric…), kept warm between invocations'
            cand --runtime-api-only 'Serve the Runtime API without starting any process: print AWS_LAMBDA_RUNTIME_API and the environment to start your function with (under a debugger or an IDE), and wait. No timeout kill in this mode'
            cand --ric 'With --handler: run the official runtime interface client (awslambdaric for Python, node_modules/aws-lambda-ric for Node) instead of kinlocal''s bundled one'
            cand --maximum-record-age-unchecked 'Test only: lift the 60 s minimum of --maximum-record-age (AWS rejects such values)'
            cand --bisect-batch-on-function-error 'Split a failing batch in two and retry each half (BisectBatchOnFunctionError)'
            cand --report-batch-item-failures 'Read the return value as a partial batch response (FunctionResponseTypes: ReportBatchItemFailures)'
            cand --reset 'Forget the checkpoints and start again from --starting-position'
            cand --dry-run 'With --template: print the resolved mapping, with where each value came from, and exit'
            cand --json 'One JSON object per batch (and a summary) on stdout'
            cand --aws 'Talk to real AWS (standard credential chain). Never done without this flag'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kinlocal;invoke'= {
            cand -e 'The handler command line (split with shell quoting rules, never run through a shell): a process reading the event on stdin, or a bootstrap with --runtime-api'
            cand --exec 'The handler command line (split with shell quoting rules, never run through a shell): a process reading the event on stdin, or a bootstrap with --runtime-api'
            cand --handler 'The handler by name, as in the Lambda console: `[dir/]file.function` (e.g. src/app.handler); run with a bundled runtime client for --runtime'
            cand --runtime 'The Lambda runtime for --handler: python3.9 … python3.14, nodejs18.x … nodejs24.x'
            cand --task-root 'LAMBDA_TASK_ROOT for --handler, the directory the handler path is relative to (default: the handler''s own directory)'
            cand --layer 'A Lambda layer directory, laid out like /opt (python/, nodejs/node_modules, bin, lib); repeatable, in order'
            cand --python 'The Python interpreter for a python --runtime (default: python3.X if on PATH, else python3)'
            cand --node 'The Node.js binary for a nodejs --runtime (default: node)'
            cand --env 'An environment variable for the function (KEY=VALUE); repeatable; wins over --env-file and kinlocal''s own Lambda variables'
            cand --env-file 'A dotenv file of variables for the function (KEY=VALUE lines, # comments); repeatable'
            cand --event 'A complete event document (JSON file, or - for stdin), sent as is'
            cand --record 'One record''s data (e.g. a JSON document); repeatable; the event is built as consume builds it'
            cand --records-from 'A file with one record''s data per line (NDJSON); the event is built as consume builds it'
            cand --partition-key 'Partition key of the built records'
            cand --stream 'Stream name in the built records'' eventSourceARN'
            cand -t 'Function timeout; the process group is killed after it'
            cand --timeout 'Function timeout; the process group is killed after it'
            cand --memory-size 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE (MB, 128-10240)'
            cand --function-name 'Function name in its ARN and AWS_LAMBDA_FUNCTION_NAME (default: the handler''s file name)'
            cand --region 'Region in ARNs and AWS_REGION'
            cand --account-id 'Account id in ARNs'
            cand --runtime-api 'Run --exec as a Lambda bootstrap speaking the Runtime API (a lambda_runtime binary, `python3 -m awslambdaric app.handler`, aws-lambda-ric…), kept warm between invocations'
            cand --runtime-api-only 'Serve the Runtime API without starting any process: print AWS_LAMBDA_RUNTIME_API and the environment to start your function with (under a debugger or an IDE), and wait. No timeout kill in this mode'
            cand --ric 'With --handler: run the official runtime interface client (awslambdaric for Python, node_modules/aws-lambda-ric for Node) instead of kinlocal''s bundled one'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kinlocal;tail'= {
            cand --starting-position 'Where to start in each shard (the same words as `consume`)'
            cand --starting-position-timestamp 'With --starting-position at-timestamp: Unix seconds or an RFC 3339 time'
            cand --after-sequence-number 'Start right after this sequence number (needs --shard)'
            cand --shard 'Read only this shard (`shardId-000000000001`, or just `1`)'
            cand -k 'Print only records with this partition key'
            cand --partition-key 'Print only records with this partition key'
            cand --filter 'Print only records matching this pattern, in the syntax of Lambda''s FilterCriteria (e.g. ''{"data":{"type":["order"]}}''); repeatable: a record matching any is printed'
            cand -n 'Stop after N records'
            cand --count 'Stop after N records'
            cand --endpoint-url 'Kinesis + DynamoDB endpoint URL (e.g. http://127.0.0.1:4566). Overrides the environment and the state of `kinlocal up`'
            cand --profile 'AWS profile to use (with --aws, or for a profile that sets endpoint_url)'
            cand --region 'AWS region (default: the state of `kinlocal up`, AWS_REGION, or us-east-1)'
            cand --state-dir 'Directory holding the state written by `kinlocal up` (default: $XDG_STATE_HOME/kinlocal)'
            cand -f 'Keep reading new records until Ctrl+C instead of stopping when caught up'
            cand --follow 'Keep reading new records until Ctrl+C instead of stopping when caught up'
            cand --base64 'Print each record''s data base64-encoded (for binary data)'
            cand --json 'One JSON line per record, with AWS''s member names and the data in base64 (what `produce --from` and `event --records-from` replay)'
            cand --aws 'Talk to real AWS (standard credential chain). Never done without this flag'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kinlocal;event'= {
            cand --record 'A record''s data (any text, usually JSON); repeatable, in order'
            cand --records-from 'Records from newline-delimited JSON, as `produce --from` replays it: one record''s data per line, or the record lines `tail --json` prints (their partition keys are kept); ''-'' reads stdin'
            cand --random 'N random JSON records (the ones `produce` generates)'
            cand --seed 'Seed for reproducible --random records'
            cand --stream 'Stream name in `eventSourceARN`'
            cand --shard-id 'Shard id in `eventID` (and `shardId` with --tumbling-window)'
            cand -k 'One partition key for every record [default: pk-0, pk-1, …]'
            cand --partition-key 'One partition key for every record [default: pk-0, pk-1, …]'
            cand --region '`awsRegion` and the region in the ARNs'
            cand --account-id 'Account id in the ARNs'
            cand --role-arn '`invokeIdentityArn` [default: arn:aws:iam::ACCOUNT:role/lambda-role, as consume]'
            cand --tumbling-window 'Wrap the records in the envelope of a tumbling window of this length (the first invocation of the window: empty state)'
            cand --pretty 'Pretty-print the event (the bytes consume sends are compact)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kinlocal;serve'= {
            cand --host 'Address to bind. Loopback unless you ask otherwise: any other address also needs --allow-remote, because the engine checks no signatures'
            cand -p 'Port to listen on; 0 takes a free port (printed at start)'
            cand --port 'Port to listen on; 0 takes a free port (printed at start)'
            cand --region 'Region written into ARNs'
            cand --account-id 'Account id written into ARNs (12 digits)'
            cand --data-dir 'Keep streams, records and tables in DIR so they survive restarts (and kill -9)'
            cand --fsync 'When journal writes reach the disk: `never` (the kernel decides, ~30 s on Linux; a killed engine loses nothing, a power cut the last half-minute), `batch` (within 1 s; a power cut loses at most about the last second) or `always` (before each answer; nothing acknowledged is lost, one disk flush per write)'
            cand --create-stream-delay 'How long a new stream stays CREATING (e.g. 500ms)'
            cand --delete-stream-delay 'How long a deleted stream stays DELETING'
            cand --update-stream-delay 'How long a stream stays UPDATING after a reshard or retention change'
            cand --create-table-delay 'How long a new DynamoDB table stays CREATING'
            cand --max-retention 'Trim records older than this whatever a stream''s retention period says (AWS''s minimum is 24 hours): keeps the memory and the journal of a long-running engine bounded by recent traffic. Consumers further behind than this lose the records trimmed'
            cand --iterator-ttl 'How long a shard iterator stays valid (AWS: 5 minutes)'
            cand --request-timeout 'A request''s headers, and then its body, must each arrive within this; a client that never finishes gets 408 and its connection is closed'
            cand --idle-timeout 'A connection that moves no byte either way for this long is closed'
            cand --subscription-lifetime 'Test only: how long a SubscribeToShard subscription lasts before the client must renew it (AWS: 5 minutes)'
            cand --allow-remote 'Allow a --host that is not loopback: anyone who can reach the port can read and write every stream and table, since the engine checks no signatures'
            cand --repair 'Salvage damaged journals in --data-dir: keep every entry that still verifies, report what is lost, keep the damaged file beside the repaired one, then serve'
            cand --enforce-limits 'Enforce per-shard throughput limits (writes 1 MiB/s and 1,000 records/s; reads 5 calls/s and 2 MiB/s) with ProvisionedThroughputExceededException, to test retry paths'
            cand --no-long-poll 'Test only: answer every GetRecords at once, ignoring kinlocal''s long-poll hint, as the endpoints of `up --docker`, kinesalite or kinesis-mock do'
            cand --json 'Print the listening address as one JSON line'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kinlocal;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kinlocal;help'= {
            cand up 'Start a local Kinesis + DynamoDB endpoint (Docker containers or the embedded engine in the background), create the default stream and lease table, and record where it is'
            cand down 'Stop and remove what `kinlocal up` started'
            cand status 'Health, streams and shards, and each consumer''s checkpoint and lag; exit 0 when healthy'
            cand create-stream 'Create a stream (default ''kinlocal'') and wait until it is ACTIVE; an existing stream of the same shape is fine'
            cand delete-stream 'Delete a stream and wait until it is gone'
            cand list-streams 'List streams with their status, mode, shards and retention'
            cand produce 'Send records to a stream: random events, a template, or a replayed file'
            cand consume 'Run an executable as a Lambda function mapped to a Kinesis stream (event source mapping)'
            cand invoke 'Run the function once with a Kinesis event and print its return value (like `sam local invoke`, without Docker)'
            cand tail 'Print a stream''s records (all shards, from --starting-position); -f keeps following'
            cand event 'Print a Kinesis event exactly as `consume` delivers it, for a handler''s unit tests'
            cand serve 'Run the embedded Kinesis + DynamoDB engine in the foreground until SIGINT/SIGTERM'
            cand completions 'Print shell completions for kinlocal'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kinlocal;help;up'= {
        }
        &'kinlocal;help;down'= {
        }
        &'kinlocal;help;status'= {
        }
        &'kinlocal;help;create-stream'= {
        }
        &'kinlocal;help;delete-stream'= {
        }
        &'kinlocal;help;list-streams'= {
        }
        &'kinlocal;help;produce'= {
        }
        &'kinlocal;help;consume'= {
        }
        &'kinlocal;help;invoke'= {
        }
        &'kinlocal;help;tail'= {
        }
        &'kinlocal;help;event'= {
        }
        &'kinlocal;help;serve'= {
        }
        &'kinlocal;help;completions'= {
        }
        &'kinlocal;help;help'= {
        }
    ]
    $completions[$command]
}
