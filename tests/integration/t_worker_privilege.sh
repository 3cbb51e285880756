#!/usr/bin/env bash
# shellcheck disable=SC2317  # case bodies are called through run_case
# SPDX-License-Identifier: MIT
# Tasks with least privilege (docs/security.md "Workers and tasks"): a root worker refuses to run tasks as
# root unless told; --run-as runs them as another user who cannot read the worker's secrets nor
# stop its supervisor; a task that stops its supervisor or puts itself in a new session does
# not escape its timeout; a task that replaces its output file with a FIFO or a link does not
# hang or fool the worker; argv reaches the program literally; the ZooKeeper secret is wiped
# from the worker's argv and environment. Needs root (it creates a user): CI runs as root.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"

[[ "$(id -u)" == 0 ]] || fail "t_worker_privilege must run as root (it creates a task user and \
starts a worker that switches to it); CI runs it as root"

# A task user of our own, removed at exit when we created it.
TUSER=corral-test-$$
TUSER_CREATED=0
if ! id -u "$TUSER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$TUSER"
    TUSER_CREATED=1
fi
TUID=$(id -u "$TUSER")
# Files both the tasks (any uid) and the test can write: markers of escaped processes.
SHARED=$(mktemp -d /tmp/corral-it-priv.XXXXXX)
chmod 1777 "$SHARED"
PWN=/tmp/corral-pwn-$$
SECRET=s3cret-$$-$RANDOM

privilege_cleanup()
{
    rm -rf "$SHARED" "$PWN"
    if ((TUSER_CREATED)); then
        userdel "$TUSER" 2>/dev/null || log "cannot remove user $TUSER"
    fi
}
at_exit privilege_cleanup

zk_start
corrald_start r1
CORRAL_TEST_SECRET=$SECRET worker_start wra --run-as "$TUSER" --label mode=runas
WRA_PID=${PID_OF[wra]}
CORRAL_TEST_SECRET=$SECRET worker_start wsame --allow-root --label mode=same
WSAME_WORK=$T_DIR/work-wsame

# spec MODE COMMAND-JSON-ARRAY [EXTRA-JSON]: a one-attempt task for the worker labelled MODE.
spec()
{
    local more=${3:-'{}'}
    jq -cn --arg mode "$1" --argjson cmd "$2" --argjson extra "$more" \
        '{command: $cmd, constraints: {mode: $mode}, max_attempts: 1, timeout_s: 30} + $extra'
}

# sh_spec MODE SCRIPT [EXTRA-JSON]: the same for sh -c SCRIPT.
sh_spec()
{
    spec "$1" "$(jq -cn --arg c "$2" '["sh","-c",$c]')" "${3:-}"
}

pid_gone()
{
    ! pid_alive "$1"
}

# ---- (a) refusals at start

# refused CODE NEEDLE ARGS...: corral-worker ARGS exits 2 with one stderr line containing NEEDLE.
refused()
{
    local needle=$1 rc=0 err
    shift
    err=$(env -u CORRAL_ALLOW_ROOT -u CORRAL_RUN_AS timeout 10 "$WORKER" --zk "$ZK" \
        --namespace "$T_NS" --id refused "$@" 2>&1 >/dev/null </dev/null) || rc=$?
    assert_eq "exit status of corral-worker $*" 2 "$rc"
    assert_eq "one stderr line" 1 "$(printf '%s\n' "$err" | wc -l)"
    assert_contains "stderr of corral-worker $*" "$needle" "$err"
}

root_refuses_without_run_as_or_allow_root()
{
    refused --run-as
    refused --allow-root
    refused "unknown user" --run-as "corral-no-such-user-$$"
    refused "names root" --run-as 0
    local open=$T_DIR/open-work
    mkdir -p "$open"
    chmod 0777 "$open"
    refused "writable by the --run-as user" --run-as "$TUSER" --work-dir "$open"
}
run_case "a root worker refuses to run tasks as root without --run-as or --allow-root" \
    root_refuses_without_run_as_or_allow_root

# ---- (b) --run-as: identity, environment, limits, no signal to the supervisor

runs_as_the_user()
{
    local id out
    # shellcheck disable=SC2016  # expanded by the task's shell
    id=$(submit "$(sh_spec runas 'id -u; id -g; echo HOME=$HOME USER=$USER; pwd')")
    wait_final "$id" 30
    assert_eq "state" succeeded "$(jb .state "$TASK")"
    out=$(jb .output "$TASK")
    assert_eq "uid, gid, env, cwd" "$TUID
$(id -g "$TUSER")
HOME=/nonexistent USER=$TUSER
/" "$out"
}
run_case "with --run-as the task runs as that user, with its HOME and / as working dir" \
    runs_as_the_user

secrets_stay_out_of_reach()
{
    local id out
    # The task's own environment, then the worker's: both must be free of the secret.
    id=$(submit "$(sh_spec runas "env; cat /proc/$WRA_PID/environ && echo ENVIRON-READ; tr '\\0' ' ' </proc/$WRA_PID/cmdline; echo")")
    wait_final "$id" 30
    out=$(jb .output "$TASK")
    assert_not_contains "task output" "$SECRET" "$out"
    assert_not_contains "task output" "ENVIRON-READ" "$out"
    assert_contains "the task's env has corral's variables" "CORRAL_TASK_ID=$id" "$out"
    assert_not_contains "no CORRAL_ setting of the worker" "CORRAL_TEST_SECRET" "$out"
    # Without --run-as too, the task's environment is built, not inherited.
    id=$(submit "$(sh_spec same env)")
    wait_final "$id" 30
    assert_not_contains "same-uid task env" "$SECRET" "$(jb .output "$TASK")"
}
run_case "tasks see neither the worker's environment nor its secrets" secrets_stay_out_of_reach

cannot_signal_supervisor_or_worker()
{
    local id out
    id=$(submit "$(sh_spec runas "kill -STOP \$PPID && echo STOPPED-SUPERVISOR; kill -0 $WRA_PID && echo CAN-SIGNAL-WORKER; echo done")")
    wait_final "$id" 30
    out=$(jb .output "$TASK")
    assert_eq "state" succeeded "$(jb .state "$TASK")"
    assert_not_contains "output" STOPPED-SUPERVISOR "$out"
    assert_not_contains "output" CAN-SIGNAL-WORKER "$out"
    assert_contains "output" "Operation not permitted" "$out"
}
run_case "a --run-as task cannot stop its supervisor nor signal the worker" \
    cannot_signal_supervisor_or_worker

limits_are_set()
{
    local id out
    id=$(submit "$(sh_spec runas "grep -E '^Max (file size|address space|processes) ' /proc/self/limits | tr -s ' '" '{"resources":{"cpu":1,"mem_mb":64}}')")
    wait_final "$id" 30
    out=$(jb .output "$TASK")
    assert_contains "address space: 4 x 64 MiB + 1 GiB" "Max address space 1342177280 1342177280 bytes" "$out"
    assert_contains "file size: 4 GiB" "Max file size 4294967296 4294967296 bytes" "$out"
    assert_contains "processes: 4096" "Max processes 4096 4096 processes" "$out"
}
run_case "a task gets RLIMIT_AS from mem_mb, RLIMIT_FSIZE and (with --run-as) RLIMIT_NPROC" \
    limits_are_set

http_task_runs_as_the_user()
{
    local id port
    port=$(free_port)
    id=$(submit "$(jq -nc --arg u "http://127.0.0.1:$port/" \
        '{http: {method: "GET", url: $u}, constraints: {mode: "runas"}, max_attempts: 1}')")
    wait_final "$id" 30
    assert_eq "state" failed "$(jb .state "$TASK")"
    # curl ran (as the user) and could not connect: no exec or identity error.
    assert_contains "curl's error" "curl" "$(jb .error "$TASK")"
}
run_case "an HTTP task runs as the --run-as user too" http_task_runs_as_the_user

# ---- (c) no escape by setsid and SIGSTOP of the supervisor

# escape_bounded MODE: the task puts a sleep in a new session, stops its supervisor and sleeps.
escape_bounded()
{
    local mode=$1 m id started elapsed pid marker
    new_marker m
    marker=$SHARED/escape-$mode
    started=$(now_ms)
    id=$(submit "$(sh_spec "$mode" "setsid sleep 1000 $m & echo \$! >$marker; kill -STOP \$PPID; sleep 1000 $m" '{"timeout_s":2}')")
    wait_final "$id" 30
    elapsed=$(($(now_ms) - started))
    assert_eq "state" failed "$(jb .state "$TASK")"
    log "$mode: ended in ${elapsed} ms: $(jb .error "$TASK")"
    ((elapsed < 20000)) || fail "the attempt took ${elapsed} ms to end"
    wait_for "the escape marker" 5 test -s "$marker"
    pid=$(cat "$marker")
    wait_for "the setsid sleep (pid $pid) to be gone" 5 pid_gone "$pid"
    wait_for "no process of the task survives" 5 no_pids_with "$m"
}
run_case "same uid: stopping the supervisor and setsid do not escape the timeout" \
    escape_bounded same

# Same uid: the task kills its supervisor; the worker (their subreaper) kills what escaped.
killed_supervisor_leaves_nothing()
{
    local m id pid marker=$SHARED/escape-kill
    new_marker m
    id=$(submit "$(sh_spec same "setsid sleep 1000 $m & echo \$! >$marker; sleep 0.2; kill -9 \$PPID; sleep 1000 $m" '{"timeout_s":60}')")
    wait_final "$id" 20
    assert_eq "state" failed "$(jb .state "$TASK")"
    log "ended: $(jb .error "$TASK")"
    wait_for "the escape marker" 5 test -s "$marker"
    pid=$(cat "$marker")
    wait_for "the setsid sleep (pid $pid) to be gone" 5 pid_gone "$pid"
    wait_for "no process of the task survives" 5 no_pids_with "$m"
    grep -q "left behind by a dead supervisor" "$T_DIR/wsame.log" ||
        fail "the worker did not log killing the orphaned sleep"
}
run_case "same uid: killing the supervisor and setsid do not leave a process behind" \
    killed_supervisor_leaves_nothing
run_case "--run-as: stopping the supervisor fails and setsid does not escape the timeout" \
    escape_bounded runas

# ---- (d) the output file replaced by a FIFO or a link

# replace_output HOW: the task replaces its own output file (HOW: fifo or link).
replace_output()
{
    local how=$1 id cmd next
    # shellcheck disable=SC2016  # expanded by the task's shell
    if [[ "$how" == fifo ]]; then
        cmd='f="$WD/$CORRAL_TASK_ID.$CORRAL_ATTEMPT.out"; echo before; rm -f "$f"; mkfifo "$f"; echo after'
    else
        # shellcheck disable=SC2016  # expanded by the task's shell
        cmd='f="$WD/$CORRAL_TASK_ID.$CORRAL_ATTEMPT.out"; rm -f "$f"; ln -s /etc/passwd "$f"'
    fi
    id=$(submit "$(sh_spec same "$cmd" "$(jq -cn --arg wd "$WSAME_WORK" '{env: {WD: $wd}}')")")
    wait_final "$id" 20
    assert_eq "state" succeeded "$(jb .state "$TASK")"
    assert_not_contains "output" "root:" "$(jb '.output // ""' "$TASK")"
    # The worker's loop is not stuck: the next task on it finishes at once.
    next=$(submit "$(spec same '["echo","next"]')")
    wait_final "$next" 15
    assert_eq "the next task" succeeded "$(jb .state "$TASK")"
    assert_eq "its output" next "$(jb .output "$TASK")"
    grep -q "is not a regular file\|Too many levels of symbolic links" "$T_DIR/wsame.log" ||
        fail "the worker did not log the replaced output file"
}
run_case "a FIFO in place of the output file does not hang the worker" replace_output fifo
run_case "a link in place of the output file is not followed" replace_output link

runas_cannot_touch_its_output()
{
    local id cmd
    cmd="f=$T_DIR/work-wra/\$CORRAL_TASK_ID.\$CORRAL_ATTEMPT.out; rm -f \"\$f\" && echo REMOVED; ls $T_DIR/work-wra && echo LISTED; true"
    id=$(submit "$(sh_spec runas "$cmd")")
    wait_final "$id" 20
    assert_not_contains "output" REMOVED "$(jb .output "$TASK")"
    assert_not_contains "output" LISTED "$(jb .output "$TASK")"
}
run_case "a --run-as task can neither list nor replace the worker's output files" \
    runas_cannot_touch_its_output

# ---- (e) argv is literal

argv_is_literal()
{
    local id evil
    evil="\$(touch $PWN); ; | & \`touch $PWN\` '\" *"
    id=$(submit "$(spec runas "$(jq -cn --arg e "$evil" '["printf","%s\n",$e]')")")
    wait_final "$id" 20
    assert_eq "state" succeeded "$(jb .state "$TASK")"
    assert_eq "output" "$evil" "$(jb .output "$TASK")"
    [[ ! -e "$PWN" ]] || fail "$PWN was created: argv went through a shell"
}
run_case "shell metacharacters in argv come out literally" argv_is_literal

# ---- (f) the supervisors' zygote (src/worker/zygote.h)

# zygote_of PID: the pid of worker PID's supervisor zygote (a child of it), or nothing.
zygote_of()
{
    pgrep -P "$1" -f -- ' --(supervise-)?zygote$' | head -n 1
}

WSAME_PID=${PID_OF[wsame]}

# has_zygote PID: worker PID has a zygote now.
has_zygote()
{
    [[ -n "$(zygote_of "$1")" ]]
}

# ppid_of PID: its parent's pid, from /proc (the field after the parenthesized name).
ppid_of()
{
    sed -E 's/^.*\) [A-Za-z] ([0-9]+) .*$/\1/' "/proc/$1/stat"
}

# one_zygote_one_supervisor: wsame has exactly one zygote and one supervisor, which ps shows
# as an exec'd supervisor is shown.
one_zygote_one_supervisor()
{
    [[ "$(pgrep -c -P "$WSAME_PID" -f -- ' --(supervise-)?zygote$' || true)" == 1 &&
        "$(pgrep -c -P "$WSAME_PID" -f -- '^corral-supervisor *$' || true)" == 1 ]]
}

zygote_is_a_clean_child_of_the_worker()
{
    local zyg id
    wait_for "wsame's zygote" 10 has_zygote "$WSAME_PID"
    zyg=$(zygote_of "$WSAME_PID")
    assert_eq "the zygote's parent" "$WSAME_PID" "$(ppid_of "$zyg")"
    assert_not_contains "the zygote's environment" "$SECRET" "$(tr '\0' '\n' <"/proc/$zyg/environ")"
    assert_eq "the zygote is not dumpable" 0 "$(stat -c %u "/proc/$zyg/environ")"
    # The task's parent is its supervisor, whose parent is the worker, not the zygote.
    id=$(submit "$(sh_spec same "sed -E 's/^.*\\) [A-Za-z] ([0-9]+) .*\$/\\1/' /proc/\$PPID/stat")")
    wait_final "$id" 20
    assert_eq "state" succeeded "$(jb .state "$TASK")"
    assert_eq "the supervisor's parent" "$WSAME_PID" "$(jb .output "$TASK")"
    # While a task runs, ps shows its supervisor as an exec'd one, and one zygote.
    id=$(submit "$(sh_spec same "sleep 30")")
    wait_state "$id" running 20
    # (The supervisors of earlier tasks may take a moment to exit after their results.)
    wait_for "one zygote and one supervisor shown as corral-supervisor" 10 one_zygote_one_supervisor
    api POST "/v1/tasks/$id/cancel"
    # A --run-as task cannot signal the zygote (it runs as the worker's user).
    wait_for "wra's zygote" 10 has_zygote "$WRA_PID"
    zyg=$(zygote_of "$WRA_PID")
    id=$(submit "$(sh_spec runas "kill -STOP $zyg && echo STOPPED-ZYGOTE; echo done")")
    wait_final "$id" 20
    assert_not_contains "output" STOPPED-ZYGOTE "$(jb .output "$TASK")"
    assert_eq "the zygote is untouched" "$zyg" "$(zygote_of "$WRA_PID")"
}
run_case "the supervisors' zygote is the worker's child, without its secrets, and makes the \
worker's children" zygote_is_a_clean_child_of_the_worker

# new_zygote_since OLD: true when wsame has a zygote other than OLD; else submits a task (a
# new zygote is started with a supervisor) and is false.
new_zygote_since()
{
    local z
    z=$(zygote_of "$WSAME_PID")
    [[ -n "$z" && "$z" != "$1" ]] && return 0
    submit "$(spec same '["true"]')" >/dev/null
    return 1
}

# zygote_lost HOW: a task of the worker's uid kills (HOW=kill) or stops (HOW=stop) the zygote;
# the tasks after it still run, and a new zygote takes its place.
zygote_lost()
{
    # The worker notices either through waitpid (exited / was stopped) or because the zygote
    # did not answer its next request (it exited / no answer): either line names the pid.
    local how=$1 zyg id i ids=() sig=-9 needle=":? (it )?exited"
    [[ "$how" == stop ]] && sig=-STOP needle="( was stopped by a signal|: no answer)"
    wait_for "wsame's zygote" 10 has_zygote "$WSAME_PID"
    zyg=$(zygote_of "$WSAME_PID")
    id=$(submit "$(sh_spec same "kill $sig $zyg && echo signalled")")
    wait_final "$id" 20
    assert_eq "state" succeeded "$(jb .state "$TASK")"
    assert_eq "output" signalled "$(jb .output "$TASK")"
    for i in 1 2 3 4 5; do
        ids+=("$(submit "$(spec same "[\"echo\",\"after-$how-$i\"]")")")
    done
    for i in 1 2 3 4 5; do
        wait_final "${ids[$((i - 1))]}" 20
        assert_eq "task $i after the zygote's $how" succeeded "$(jb .state "$TASK")"
        assert_eq "its output" "after-$how-$i" "$(jb .output "$TASK")"
    done
    wait_for "the old zygote (pid $zyg) to be gone" 10 pid_gone "$zyg"
    grep -q -E "supervisor zygote pid=$zyg$needle" "$T_DIR/wsame.log" ||
        fail "the worker did not log the loss of its zygote (pid $zyg, $how)"
    # A new zygote comes with a supervisor started a second or more later.
    wait_for "a new zygote" 15 new_zygote_since "$zyg"
}
run_case "a task that kills the zygote does not stop the worker's tasks" zygote_lost kill
run_case "a task that stops the zygote does not stop the worker's tasks" zygote_lost stop

# A task whose supervisor config is larger than a pipe holds by default (64 KiB): the worker
# widens the config pipe before asking the zygote (it writes the config without waiting).
big_config_through_the_zygote()
{
    local id big
    big=$(head -c 65200 /dev/zero | tr '\0' x)
    id=$(submit "$(jq -cn --arg b "$big" \
        '{command: ["sh", "-c", "echo ${#BIG}"], env: {BIG: $b}, constraints: {mode: "same"}, max_attempts: 1}')")
    wait_final "$id" 20
    assert_eq "state" succeeded "$(jb .state "$TASK")"
    assert_eq "the task saw all of its environment" 65200 "$(jb .output "$TASK")"
}
run_case "a config over 64 KiB reaches a supervisor from the zygote" big_config_through_the_zygote

# lone_processes PID: worker PID (without corral-supervisor beside it) has one zygote and one
# supervisor, both itself: `corral-worker --supervise-zygote`, `corral-worker --supervise`.
lone_processes()
{
    [[ "$(pgrep -c -P "$1" -f -- '^corral-worker --supervise-zygote$' || true)" == 1 &&
        "$(pgrep -c -P "$1" -f -- '^corral-worker --supervise *$' || true)" == 1 ]]
}

zygote_without_corral_supervisor()
{
    local dir=$T_DIR/lone id wpid
    mkdir -p "$dir"
    cp "$WORKER" "$dir/corral-worker"
    WORKER=$dir/corral-worker worker_start wlone --allow-root --label mode=lone
    wpid=${PID_OF[wlone]}
    id=$(submit "$(sh_spec lone 'sleep 2; echo lone-ok')")
    wait_state "$id" running 20
    wait_for "wlone's zygote and supervisor, both corral-worker" 10 lone_processes "$wpid"
    wait_final "$id" 20
    assert_eq "state" succeeded "$(jb .state "$TASK")"
    assert_eq "output" lone-ok "$(jb .output "$TASK")"
    stop_pid wlone 5
}
run_case "without corral-supervisor beside it, the worker is its own zygote and supervisors" \
    zygote_without_corral_supervisor

# ---- the ZooKeeper secret is wiped from argv and environ

zk_secret_wiped()
{
    local port pid
    port=$(free_port)
    mkdir -p "$T_DIR/work-wz"
    CORRAL_ZK_AUTH=envuser:env-$SECRET "$WORKER" --zk "127.0.0.1:$port" --id wz --allow-root \
        --work-dir "$T_DIR/work-wz" --zk-auth "flaguser:flag-$SECRET" >>"$T_DIR/wz.log" 2>&1 &
    pid=$!
    proc_record wz "$pid" worker
    wait_for "wz to start" 10 grep -q "starting worker=wz" "$T_DIR/wz.log"
    assert_not_contains "cmdline" "flag-$SECRET" "$(tr '\0' ' ' <"/proc/$pid/cmdline")"
    assert_not_contains "environ" "env-$SECRET" "$(tr '\0' '\n' <"/proc/$pid/environ")"
    assert_eq "not dumpable (files of /proc/PID owned by root)" 0 "$(stat -c %u "/proc/$pid/environ")"
    stop_pid wz 5
}
run_case "the worker wipes --zk-auth and CORRAL_ZK_AUTH from its argv and environment" \
    zk_secret_wiped

pass
