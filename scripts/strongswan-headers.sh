#!/bin/sh
# strongswan-headers.sh CACHE_DIR: the strongSwan source tree, configured, that matches the
# installed charon, for building the certval plugin (Debian ships no strongSwan headers).
#
# Takes the source package of the installed libstrongswan through apt (adding deb-src entries
# derived from the system's own deb entries, once), unpacks it into CACHE_DIR, runs its
# ./configure once with the options of Debian's build that shape the headers (config.h), and
# prints the tree's path on stdout. Later runs find the stamp and only print the path.
# Exits non-zero with the reason on stderr when it cannot (no libstrongswan, no network, not
# root for apt); meson's -Dstrongswan=auto then skips the plugin.
set -eu

cache=${1:?usage: strongswan-headers.sh CACHE_DIR}
say() { echo "strongswan-headers: $*" >&2; }

version=$(dpkg-query -W -f='${Version}' libstrongswan 2>/dev/null) || version=""
[ -n "$version" ] || {
	say "libstrongswan is not installed (apt-get install strongswan-charon)"
	exit 1
}
upstream=${version#*:}
upstream=${upstream%%-*}
tree="$cache/strongswan-$upstream"
stamp="$tree/.certval-configured"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ]; then
	echo "$tree"
	exit 0
fi

# deb-src entries: the deb entries of Debian's own source lists (deb822 debian.sources, the
# default of Debian 12 images, and the one-line sources.list of installed systems) with the
# type changed, in one file of our own. Third-party lists are left out: a repository without
# sources would make apt-get update fail.
src_list=/etc/apt/sources.list.d/certval-deb-src.sources
have_src() { apt-cache showsrc strongswan 2>/dev/null | grep -q '^Version: '; }
if ! have_src; then
	[ "$(id -u)" -eq 0 ] || {
		say "no deb-src entry for strongswan and not root: cannot add one"
		exit 1
	}
	tmp=$(mktemp)
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		# deb822 stanzas of type deb only (a stanza ends at an empty line)
		awk 'BEGIN { RS = ""; ORS = "\n\n" }
		     /(^|\n)Types:[ \t]*deb[ \t]*(\n|$)/ && !/(^|\n)Enabled:[ \t]*no/ {
		         sub(/Types:[ \t]*deb/, "Types: deb-src"); print }' \
			/etc/apt/sources.list.d/debian.sources >>"$tmp"
	fi
	if [ -f /etc/apt/sources.list ]; then
		sed -n 's/^[ \t]*deb[ \t]\+\(\[[^]]*\][ \t]\+\)\?\([^ \t]\+\)[ \t]\+\(.*\)$/\2 \3/p' \
			/etc/apt/sources.list | while read -r uri suite comps; do
			printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n\n' \
				"$uri" "$suite" "$comps"
		done >>"$tmp"
	fi
	[ -s "$tmp" ] || {
		rm -f "$tmp"
		say "no deb entry in debian.sources or sources.list to derive a deb-src entry from"
		exit 1
	}
	mv "$tmp" "$src_list"
	chmod 0644 "$src_list"
	say "added $src_list; apt-get update"
	# a failure of some other list is not ours: what counts is whether the source is known
	apt-get update -qq >&2 || say "apt-get update reported errors"
	have_src || {
		say "apt knows no strongswan source package (network?)"
		exit 1
	}
fi

# The installed version's source, else the newest with the same upstream version (a mirror
# may lack the newest security upload's files; Debian's revisions of one upstream release do
# not change the headers' layout).
candidates=$(apt-cache showsrc strongswan | sed -n 's/^Version: //p' | sort -r -V |
	awk -v want="$version" -v up="$upstream" '
	    $0 == want { print; next } { v = $0; sub(/^[0-9]+:/, "", v) }
	    index(v, up "-") == 1 { rest = rest $0 "\n" } END { printf "%s", rest }')
mkdir -p "$cache"
got=""
for v in $candidates; do
	rm -rf "$tree"
	if (cd "$cache" && apt-get source -qq -o APT::Sandbox::User=root --only-source \
		"strongswan=$v" >"$cache/apt-source.log" 2>&1) && [ -x "$tree/configure" ]; then
		got=$v
		break
	fi
	say "could not fetch the source of strongswan $v (see $cache/apt-source.log)"
done
[ -n "$got" ] || {
	say "no source of strongswan $upstream could be fetched"
	exit 1
}
[ "$got" = "$version" ] || say "installed $version, using the source of $got"

# The options of debian/rules that change what the headers declare: ME (mediation) adds
# methods to ike_sa_t and peer_cfg_t; IKEv1 and IKEv2 are on by default. The plugins that
# need development files Debian's build has (gmp, curl, ...) are left out: they do not touch
# the headers, and the plugin is built against the installed libraries, not these.
(cd "$tree" && ./configure --prefix=/usr --sysconfdir=/etc --libdir=/usr/lib \
	--libexecdir=/usr/lib --enable-mediation --enable-swanctl --enable-kernel-libipsec \
	--disable-gmp >"$cache/configure.log" 2>&1) || {
	say "strongSwan's configure failed (see $cache/configure.log)"
	exit 1
}
echo "$version" >"$stamp"
echo "$tree"
