#!/usr/bin/env bash
# s3rver-tls.sh start|stop <state_dir> — see s3rver-fork.bash.
source "$(dirname "$(readlink -f "$0")")/s3rver-fork.bash"
s3rver_fork_main s3rver-tls "$@"
