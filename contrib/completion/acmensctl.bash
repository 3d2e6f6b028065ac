# SPDX-License-Identifier: ISC
# bash completion for acmensctl: commands, sub-commands, options and the
# values of the options that take a fixed set (--algorithm, --format) or a
# path (-c, --dir, the DEST of backup, the files import reads). make install
# puts it in $(datadir)/bash-completion/completions/, where bash-completion
# loads it on the first <Tab> after acmensctl; or source it from ~/.bashrc.
# It needs nothing from bash-completion itself.

# The commands this acmensctl lists in its help (so that a newer one's are
# offered too), with the ones this file knows; once per program per shell.
_acmensctl_commands()
{
	local prog=$1 line
	if [[ ${_acmensctl_cache_prog-} != "$prog" ]]; then
		_acmensctl_cache_prog=$prog
		_acmensctl_cache="account txt export check-config serial stats audit backup
			check-store tsig-keygen secondary-config status lookups delegation
			dnssec import-acmedns convert-acmedns-config"
		while IFS= read -r line; do
			[[ $line =~ ^\ \ ([a-z][a-z0-9-]*)(\ |$) ]] &&
				[[ " ${_acmensctl_cache//[$'\t\n']/ } " != *" ${BASH_REMATCH[1]} "* ]] &&
				_acmensctl_cache+=" ${BASH_REMATCH[1]}"
		done < <({ command "$prog" help || command "$prog" --help; } 2>/dev/null)
	fi
	printf '%s\n' $_acmensctl_cache
}

# Sub-commands of the commands that have them.
_acmensctl_subcommands()
{
	case $1 in
	account) echo "register list show disable enable delete rotate-key tsig-key" ;;
	txt) echo "add remove set list" ;;
	delegation) echo "check" ;;
	dnssec) echo "keygen ds status export-key rollover" ;;
	esac
}

# Options of one command ("account register", "audit"), --json and --help aside.
_acmensctl_options()
{
	case $1 in
	"account register") echo "--subdomain --allowfrom" ;;
	"account list") echo "--search --after --limit" ;;
	"account delete") echo "--yes" ;;
	"account tsig-key") echo "--algorithm" ;;
	"txt add") echo "--expires-in" ;;
	audit) echo "--subdomain --after --limit" ;;
	tsig-keygen) echo "--algorithm --format" ;;
	secondary-config) echo "--primary --key --dir" ;;
	status) echo "--timeout" ;;
	lookups) echo "--limit" ;;
	"delegation check") echo "--file --concurrency --no-record" ;;
	"dnssec keygen") echo "--algorithm" ;;
	"dnssec status") echo "--ds-ttl" ;;
	"dnssec export-key") echo "--out" ;;
	"dnssec rollover") echo "--force --ds-ttl" ;;
	import-acmedns) echo "--dry-run --progress" ;;
	convert-acmedns-config) echo "--trusted-proxy" ;;
	esac
}

# True if option $1 takes a value (the next word, or after "=").
_acmensctl_takes_value()
{
	case $1 in
	-c | --config | --dir | --algorithm | --format | --subdomain | --allowfrom | --search | \
		--after | --limit | --expires-in | --primary | --key | --timeout | --trusted-proxy | \
		--file | --concurrency | --out | --ds-ttl) ;;
	*) return 1 ;;
	esac
}

# Completes the value of option $1 (one that takes a value) into COMPREPLY;
# $3: the words of the line (--algorithm names DNSSEC algorithms after dnssec).
_acmensctl_option_value()
{
	local cur=$2 algs="hmac-sha256 hmac-sha384 hmac-sha512"
	[[ " $3 " == *" dnssec "* ]] && algs="ecdsap256sha256 ed25519"
	case $1 in
	-c | --config) COMPREPLY=($(compgen -f -- "$cur")) ;;
	--dir) COMPREPLY=($(compgen -d -- "$cur")) ;;
	--file | --out) COMPREPLY=($(compgen -f -- "$cur")) ;;
	--algorithm) COMPREPLY=($(compgen -W "$algs" -- "$cur")) ;;
	--format) COMPREPLY=($(compgen -W "acmens bind knot nsd" -- "$cur")) ;;
	*) COMPREPLY=() ;;   # a name, a number, an address: nothing to offer
	esac
}

# Operands: what the Nth word after the command (and sub-command) is.
_acmensctl_operand()
{
	local what=$1 n=$2 cur=$3
	case $what in
	backup) COMPREPLY=($(compgen -d -- "$cur")) ;;
	import-acmedns | convert-acmedns-config) COMPREPLY=($(compgen -f -- "$cur")) ;;
	secondary-config) ((n == 0)) && COMPREPLY=($(compgen -W "knot nsd bind" -- "$cur")) ;;
	help) ((n == 0)) && COMPREPLY=($(compgen -W "$(_acmensctl_commands "$4")" -- "$cur")) ;;
	esac
}

_acmensctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local prog=${COMP_WORDS[0]} cmd="" sub="" i w operands=0
	COMPREPLY=()
	# "--opt=value": bash splits it at the "="
	if [[ $cur == = ]]; then
		prev=${COMP_WORDS[COMP_CWORD - 1]} cur=""
	elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi
	if _acmensctl_takes_value "$prev"; then
		_acmensctl_option_value "$prev" "$cur" "${COMP_WORDS[*]}"
		return 0
	fi
	# The command, its sub-command, and how many operands precede the word.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == -* || $w == = ]]; then
			[[ -z $cmd && ( $w == -c || $w == --config ) ]] && ((i++))
			continue
		fi
		[[ ${COMP_WORDS[i - 1]} == = ]] && continue
		_acmensctl_takes_value "${COMP_WORDS[i - 1]}" && continue
		if [[ -z $cmd ]]; then
			cmd=$w
		elif [[ -z $sub && -n $(_acmensctl_subcommands "$cmd") ]]; then
			sub=$w
		else
			((operands++))
		fi
	done
	COMPREPLY=()
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--config --json --help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_acmensctl_commands "$prog")" -- "$cur"))
		fi
		return 0
	fi
	local subs
	subs=$(_acmensctl_subcommands "$cmd")
	if [[ -n $subs && -z $sub ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--help" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$subs" -- "$cur"))
		fi
		return 0
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_acmensctl_options "${cmd}${sub:+ $sub}") --json --help" -- "$cur"))
		return 0
	fi
	_acmensctl_operand "${cmd}" "$operands" "$cur" "$prog"
	return 0
}

complete -F _acmensctl acmensctl
