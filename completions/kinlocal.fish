# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kinlocal_global_optspecs
    string join \n h/help V/version
end

function __fish_kinlocal_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kinlocal_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kinlocal_using_subcommand
    set -l cmd (__fish_kinlocal_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kinlocal -n "__fish_kinlocal_needs_command" -s h -l help -d 'Print help'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -s V -l version -d 'Print version'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -f -a "serve" -d 'Run the embedded Kinesis + DynamoDB engine in the foreground until SIGINT/SIGTERM'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -f -a "completions" -d 'Print shell completions for kinlocal'
complete -c kinlocal -n "__fish_kinlocal_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l host -d 'Address to bind. Loopback unless you ask otherwise' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -s p -l port -d 'Port to listen on; 0 takes a free port (printed at start)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l region -d 'Region written into ARNs' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l account-id -d 'Account id written into ARNs (12 digits)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l data-dir -d 'Keep streams, records and tables in DIR so they survive restarts (and kill -9)' -r -F
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l create-stream-delay -d 'How long a new stream stays CREATING (e.g. 500ms)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l delete-stream-delay -d 'How long a deleted stream stays DELETING' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l update-stream-delay -d 'How long a stream stays UPDATING after a reshard or retention change' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l create-table-delay -d 'How long a new DynamoDB table stays CREATING' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l iterator-ttl -d 'How long a shard iterator stays valid (AWS: 5 minutes)' -r
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l enforce-limits -d 'Enforce per-shard throughput limits (writes 1 MiB/s and 1,000 records/s; reads 5 calls/s and 2 MiB/s) with ProvisionedThroughputExceededException, to test retry paths'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -l json -d 'Print the listening address as one JSON line'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -s h -l help -d 'Print help'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand serve" -s V -l version -d 'Print version'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand completions" -s h -l help -d 'Print help'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand completions" -s V -l version -d 'Print version'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand help; and not __fish_seen_subcommand_from serve completions help" -f -a "serve" -d 'Run the embedded Kinesis + DynamoDB engine in the foreground until SIGINT/SIGTERM'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand help; and not __fish_seen_subcommand_from serve completions help" -f -a "completions" -d 'Print shell completions for kinlocal'
complete -c kinlocal -n "__fish_kinlocal_using_subcommand help; and not __fish_seen_subcommand_from serve completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
