#!/usr/bin/env bash
# Brings up a single-node Slurm cluster on this machine for brine's tests:
# installs Debian's slurm-wlm and munge when missing, writes /etc/slurm/slurm.conf
# (this host, CPUs = nproc), starts munged, slurmctld and slurmd, and waits until
# sinfo shows the node idle. Idempotent: with the cluster up it exits 0 at once.
# Needs root (the CI and the developers' machines run as root). Debian 12
# (slurm-wlm 22.05) is what it was verified on; see README "Running on a cluster".
set -euo pipefail

CONF=/etc/slurm/slurm.conf
MARK="# written by brine tests/slurm/cluster.sh"
NODE=$(hostname -s)
WAIT_SECONDS=${BRINE_SLURM_WAIT:-60}

say() { echo "cluster.sh: $*" >&2; }

node_state() { sinfo -h -n "$NODE" -o %T 2>/dev/null | head -n1; }

# Up means the controller answers and our node can take work.
cluster_up() {
	command -v sinfo >/dev/null 2>&1 || return 1
	grep -qF "$MARK" "$CONF" 2>/dev/null || return 1
	# sinfo waits ~10 s for a controller that is not there: look for the daemons first.
	pgrep -x slurmctld >/dev/null && pgrep -x slurmd >/dev/null || return 1
	case "$(node_state)" in idle | mixed | allocated | completing) return 0 ;; *) return 1 ;; esac
}

install_packages() {
	local missing=()
	command -v slurmctld >/dev/null 2>&1 || missing+=(slurm-wlm)
	command -v munged >/dev/null 2>&1 || missing+=(munge)
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || { say "installing ${missing[*]} needs root"; exit 1; }
	say "installing ${missing[*]} (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	# No init system here: keep the packages' scripts from starting services.
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/brine-slurm-apt.log 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/brine-slurm-apt.log 2>&1; } ||
		{ say "apt-get install ${missing[*]} failed: see /tmp/brine-slurm-apt.log"; rm -f /usr/sbin/policy-rc.d; exit 1; }
	rm -f /usr/sbin/policy-rc.d
}

# RealMemory a little under what the kernel reports: slurmd drains a node
# whose configured memory exceeds what it finds.
real_memory_mb() { awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo; }

write_conf() {
	mkdir -p /etc/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm /run/slurm
	cat >"$CONF.new" <<CONF
$MARK
ClusterName=brine
SlurmctldHost=$NODE(127.0.0.1)
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SlurmUser=root
SlurmdUser=root
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
MaxArraySize=10001
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$(real_memory_mb) State=UNKNOWN
PartitionName=brine Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
	mv "$CONF.new" "$CONF"
}

start_munge() {
	if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
	if [ ! -s /etc/munge/munge.key ]; then
		mkdir -p /etc/munge
		dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
	fi
	chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
	mkdir -p /run/munge && chown munge:munge /run/munge
	# --force: run even where munged finds the key's directories too open (containers).
	runuser -u munge -- munged --force
}

# Stops the daemons this script started earlier (by their pid files), so a
# rewritten slurm.conf is read afresh.
stop_slurm() {
	local pidfile
	for pidfile in /run/slurm/slurmd.pid /run/slurm/slurmctld.pid; do
		[ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
	done
	sleep 1
}

start_slurm() {
	pgrep -x slurmctld >/dev/null || slurmctld
	pgrep -x slurmd >/dev/null || slurmd
}

wait_for_node() {
	local deadline=$((SECONDS + WAIT_SECONDS)) state=""
	while [ $SECONDS -lt $deadline ]; do
		state=$(node_state)
		case "$state" in
		idle | mixed | allocated) return 0 ;;
		down* | drain* | drained*) scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true ;;
		esac
		sleep 1
	done
	say "node $NODE not idle after ${WAIT_SECONDS}s (state: ${state:-no answer}); see /var/log/slurm/slurmctld.log and slurmd.log"
	return 1
}

main() {
	if cluster_up; then
		say "Slurm is up: node $NODE $(node_state)"
		exit 0
	fi
	local start=$SECONDS
	install_packages
	if ! grep -qF "$MARK" "$CONF" 2>/dev/null; then
		[ -e "$CONF" ] && cp "$CONF" "$CONF.before-brine"
		stop_slurm
	fi
	write_conf
	start_munge
	start_slurm
	wait_for_node
	say "Slurm is up: node $NODE $(node_state), $(nproc) CPUs, in $((SECONDS - start))s"
}

main "$@"
