#!/usr/bin/env bash
# Writes a private Tor network under BASE, all on 127.0.0.1: 3 directory
# authorities (keys from tor-gencert, also relays), 7 more exit relays (arti
# needs about 10 relays to build onion-service paths), one onion service in
# front of HS_TARGET, and one client with a SocksPort. Every node runs with
# TestingTorNetwork and 20-second voting. Also writes BASE/arti-net.txt with
# the `auth` and `fallback` lines leakwatch's embedded Tor reads.
#
# usage: setup.sh BASE HS_TARGET [PORT_BASE]
#   ports used: PORT_BASE+0..9 (OR), PORT_BASE+100..109 (Dir), PORT_BASE+200 (client SOCKS)
set -euo pipefail
B=${1:?usage: setup.sh BASE HS_TARGET [PORT_BASE]}
HS_TARGET=${2:?usage: setup.sh BASE HS_TARGET [PORT_BASE]}
PORT_BASE=${3:-25000}
command -v tor >/dev/null || { echo "setup.sh: tor is not installed (apt-get install tor)" >&2; exit 1; }
command -v tor-gencert >/dev/null || { echo "setup.sh: tor-gencert is missing (it ships with Debian's tor)" >&2; exit 1; }

rm -rf "$B"
mkdir -p "$B"
AUTHS="a0 a1 a2"
RELAYS="r0 r1 r2 r3 r4 r5 r6"
i=0
for n in $AUTHS $RELAYS; do
  d=$B/$n
  mkdir -p "$d/keys"
  chmod 700 "$d"
  echo "$((PORT_BASE + i)) $((PORT_BASE + 100 + i))" > "$d/ports"
  # Generates the relay identity keys and prints the fingerprint files.
  tor --quiet --list-fingerprint --DataDirectory "$d" --ORPort "$((PORT_BASE + i))" \
      --Nickname "$n" --Address 127.0.0.1 --SocksPort 0 --ignore-missing-torrc -f /dev/null \
      > "$d/fp.out" 2>&1 || true
  [ -s "$d/fingerprint" ] || { echo "setup.sh: no fingerprint for $n:" >&2; cat "$d/fp.out" >&2; exit 1; }
  i=$((i + 1))
done

: > "$B/dirauth.lines"
: > "$B/arti-net.txt"
for n in $AUTHS; do
  d=$B/$n
  read -r orp dirp < "$d/ports"
  (cd "$d/keys" && echo "" | tor-gencert --create-identity-key -m 12 -a "127.0.0.1:$dirp" --passphrase-fd 0 > /dev/null 2>&1)
  v3=$(awk '/^fingerprint /{print $2}' "$d/keys/authority_certificate")
  fp=$(cut -d' ' -f2- "$d/fingerprint")
  echo "DirAuthority $n orport=$orp no-v2 v3ident=$v3 127.0.0.1:$dirp $fp" >> "$B/dirauth.lines"
  echo "auth $v3 127.0.0.1:$dirp" >> "$B/arti-net.txt"
done
for n in $AUTHS $RELAYS; do
  d=$B/$n
  read -r orp dirp < "$d/ports"
  fp=$(cut -d' ' -f2- "$d/fingerprint" | tr -d ' ')
  ed=$(cut -d' ' -f2 "$d/fingerprint-ed25519")
  echo "fallback $fp $ed 127.0.0.1:$orp" >> "$B/arti-net.txt"
done
# The onion-service time period of a TestingTorNetwork is 24 voting
# intervals (24 x 20 s = 8 minutes); arti must use the same.
echo "param hsdir_interval 8" >> "$B/arti-net.txt"

common() { # nickname, data dir
  cat <<C
TestingTorNetwork 1
AssumeReachable 1
PathsNeededToBuildCircuits 0.25
TestingDirAuthVoteExit *
TestingDirAuthVoteGuard *
TestingDirAuthVoteHSDir *
TestingMinExitFlagThreshold 0
V3AuthNIntervalsValid 2
DataDirectory $2
RunAsDaemon 1
Nickname $1
ShutdownWaitLength 0
PidFile $2/pid
Log notice file $2/notice.log
ProtocolWarnings 1
SafeLogging 0
ContactInfo $1@test.invalid
$(cat "$B/dirauth.lines")
C
}
for n in $AUTHS $RELAYS; do
  d=$B/$n
  read -r orp dirp < "$d/ports"
  {
    common "$n" "$d"
    echo "Address 127.0.0.1"
    echo "ORPort $orp"
    echo "DirPort $dirp"
    echo "SocksPort 0"
    echo "ExitRelay 1"
    echo "ExitPolicy accept 127.0.0.0/8:*"
    echo "ExitPolicy accept *:*"
  } > "$d/torrc"
done
for n in $AUTHS; do
  cat >> "$B/$n/torrc" <<A
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
TestingV3AuthInitialVotingInterval 20
V3AuthVotingInterval 20
TestingV3AuthInitialVoteDelay 2
V3AuthVoteDelay 2
TestingV3AuthInitialDistDelay 2
V3AuthDistDelay 2
A
done
d=$B/hs
mkdir -p "$d"
chmod 700 "$d"
{ common hs "$d"; echo "SocksPort 0"; echo "HiddenServiceDir $d/hs"; echo "HiddenServicePort 80 $HS_TARGET"; } > "$d/torrc"
d=$B/client
mkdir -p "$d"
chmod 700 "$d"
{ common client "$d"; echo "SocksPort 127.0.0.1:$((PORT_BASE + 200))"; } > "$d/torrc"
echo "127.0.0.1:$((PORT_BASE + 200))" > "$B/socks.addr"
