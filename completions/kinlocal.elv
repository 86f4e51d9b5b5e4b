
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
            cand serve 'Run the embedded Kinesis + DynamoDB engine in the foreground until SIGINT/SIGTERM'
            cand completions 'Print shell completions for kinlocal'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kinlocal;serve'= {
            cand --host 'Address to bind. Loopback unless you ask otherwise'
            cand -p 'Port to listen on; 0 takes a free port (printed at start)'
            cand --port 'Port to listen on; 0 takes a free port (printed at start)'
            cand --region 'Region written into ARNs'
            cand --account-id 'Account id written into ARNs (12 digits)'
            cand --data-dir 'Keep streams, records and tables in DIR so they survive restarts (and kill -9)'
            cand --create-stream-delay 'How long a new stream stays CREATING (e.g. 500ms)'
            cand --delete-stream-delay 'How long a deleted stream stays DELETING'
            cand --update-stream-delay 'How long a stream stays UPDATING after a reshard or retention change'
            cand --create-table-delay 'How long a new DynamoDB table stays CREATING'
            cand --iterator-ttl 'How long a shard iterator stays valid (AWS: 5 minutes)'
            cand --enforce-limits 'Enforce per-shard throughput limits (writes 1 MiB/s and 1,000 records/s; reads 5 calls/s and 2 MiB/s) with ProvisionedThroughputExceededException, to test retry paths'
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
            cand serve 'Run the embedded Kinesis + DynamoDB engine in the foreground until SIGINT/SIGTERM'
            cand completions 'Print shell completions for kinlocal'
            cand help 'Print this message or the help of the given subcommand(s)'
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
