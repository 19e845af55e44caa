# bash completion for osio(1): its commands (from `osio help`), VM and switch names (from the store,
# through `osio list --json`), each command's options (from its --help) and file names.
# shellcheck shell=bash

# What each command's positional arguments are, in order ("-": nothing to offer; "sub:" a
# second-level command from the command's own "commands:" list; "files" repeats). Every command
# of `osio help` has an entry (tests/install/completion.sh checks it).
declare -gA _osio_args=(
	[create]="-" [import]="vmconfig" [export]="vm dir" [delete]="vm" [rename]="vm -"
	[list]="" [run]="vmconfig" [connect]="vm" [send-key]="vm" [start]="vm" [serial]="vm"
	[stop]="vm" [shutdown]="vm" [reset]="vm" [pause]="vm" [resume]="vm" [save]="vm"
	[status]="vm" [dvd]="vm dvdcmd iso" [checkpoint]="vm sub: checkpoint" [disk]="sub: files"
	[switch]="sub: switch" [console]="" [version]="" [help]="" [autostart]="" [autostop]=""
	[screenshot]="vm png"
)
declare -gA _osio_help_cache=()

# _osio_help VAR KEY COMMAND...: sets VAR to the output of `COMMAND... --help`, remembered under KEY
# for the rest of the shell's life.
_osio_help()
{
	local -n _osio_out=$1
	local key=$2
	shift 2
	if [[ ! -v _osio_help_cache[$key] ]]; then
		_osio_help_cache[$key]=$(LC_ALL=C "$@" --help 2>/dev/null)
	fi
	_osio_out=${_osio_help_cache[$key]}
}

# _osio_list_commands TEXT: the words that start the lines of TEXT's "commands:" section.
_osio_list_commands()
{
	sed -n '/^commands:/,/^$/s/^  \([a-z][a-z0-9-]*\)\( .*\)\{0,1\}$/\1/p' <<<"$1"
}

# _osio_options TEXT: the long options TEXT names in its option lines (and usage lines).
_osio_options()
{
	grep -oE '(^|[[ ,|])--[a-z][a-z0-9-]*' <<<"$1" | sed 's/^[^-]*//' | sort -u
}

# _osio_optarg TEXT OPTION: what OPTION takes, as its option line shows it ("FILE", "ide|virtio",
# "SIZE|none", ...; empty when it takes nothing), then a tab and its description's start.
_osio_optarg()
{
	local opt=$2
	[[ $opt =~ ^-[a-zA-Z]$ ]] &&
		opt=$(sed -nE "s/^ +$opt, +(--[a-z0-9-]+).*/\\1/p" <<<"$1" | head -n 1)
	[[ -n $opt ]] &&
		sed -nE "s/^ +(-[a-zA-Z], +)?$opt ([^ ]+)( +(.*))?\$/\\2\\t\\4/p" <<<"$1" | head -n 1
}

_osio_vms()
{
	"${_osio_cmd[@]}" list --json 2>/dev/null | sed -n 's/^    "name": "\([^"\\]*\)",$/\1/p'
}

_osio_switches()
{
	"${_osio_cmd[@]}" switch list --json 2>/dev/null |
		sed -n 's/^    "name": "\([^"\\]*\)",$/\1/p'
}

# _osio_checkpoints VM: the IDs and labels of VM's checkpoints (labels with spaces left out).
_osio_checkpoints()
{
	"${_osio_cmd[@]}" checkpoint "$1" list --json 2>/dev/null |
		sed -n 's/^ *"\(id\|label\)": "\([^" \\]*\)",\{0,1\}$/\2/p'
}

_osio_files()
{
	if declare -F _filedir >/dev/null; then
		_filedir "$@"
	elif [[ $1 == -d ]]; then
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}

_osio_words()
{
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")
}

# _osio_complete_kind KIND: completes one positional argument of that kind.
_osio_complete_kind()
{
	case $1 in
	vm) _osio_words "$(_osio_vms)" ;;
	switch) _osio_words "$(_osio_switches)" ;;
	checkpoint) _osio_words "$(_osio_checkpoints "$vm")" ;;
	dvdcmd) _osio_words "insert eject" ;;
	vmconfig) _osio_files vmconfig ;;
	iso) [[ $dvdcmd == insert ]] && _osio_files '@(iso|ISO)' ;;
	png) _osio_files '@(png|PNG)' ;;
	dir) _osio_files -d ;;
	files) _osio_files ;;
	esac
}

_osio()
{
	local cur prev words cword split=false
	if declare -F _init_completion >/dev/null; then
		_init_completion -s -n : || return
	else
		cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
	fi
	COMPREPLY=()

	# The osio the user runs, with the options before the command (--system).
	local bin=${words[0]/#\~/$HOME}
	local -a _osio_cmd=("$bin")
	local top i=1
	_osio_help top "$bin" "$bin"
	while ((i < cword)) && [[ ${words[i]} == -* ]]; do
		_osio_cmd+=("${words[i]}")
		((i++))
	done
	if ((i == cword)); then
		if [[ $cur == -* ]]; then
			_osio_words "$(_osio_options "$top")"
		else
			_osio_words "$(_osio_list_commands "$top") help"
		fi
		return
	fi

	local cmd=${words[i]} sub='' help key=$bin/${words[i]}
	_osio_help help "$key" "${_osio_cmd[@]}" "$cmd"
	local -a kinds
	read -r -a kinds <<<"${_osio_args[$cmd]-files}"

	# The positional arguments before the word being completed, options and their values aside.
	local -a pos=()
	local w arg
	for ((i++; i < cword; i++)); do
		w=${words[i]}
		if [[ $w == -* ]]; then
			[[ $w == *=* ]] && continue
			arg=$(_osio_optarg "$help" "$w")
			[[ -n ${arg%%$'\t'*} ]] && ((i++))
			continue
		fi
		pos+=("$w")
		# A second-level command (osio disk create, osio checkpoint NAME list): its own help.
		if [[ ${kinds[${#pos[@]} - 1]-} == sub: ]]; then
			sub=$w
			local subhelp
			_osio_help subhelp "$key/$sub" "${_osio_cmd[@]}" "$cmd" "${pos[@]}"
			if [[ -n $subhelp ]]; then
				help=$subhelp
			else
				# Its line in the command's list (osio checkpoint NAME list [--json]).
				help=$(sed -n "/^commands:/,/^\$/{/^  $sub\\b/p}" <<<"$help")
			fi
		fi
	done
	local vm='' dvdcmd=''
	for ((i = 0; i < ${#pos[@]}; i++)); do
		[[ ${kinds[i]-} == vm ]] && vm=${pos[i]}
		[[ ${kinds[i]-} == dvdcmd ]] && dvdcmd=${pos[i]}
	done

	# The value of an option.
	local opt=$prev
	if [[ $split == true || $prev == -* ]]; then
		arg=$(_osio_optarg "$help" "$opt")
		local what=${arg%%$'\t'*} desc=${arg#*$'\t'}
		if [[ -n $what ]]; then
			case $what in
			*FILE* | *PATH* | PARENT | SRC | DST) _osio_files ;;
			DIR) _osio_files -d ;;
			*)
				# "vhdx, vhd, qcow2 or raw (default ...": the words listed.
				local choices='' re='^([a-z0-9]+(, [a-z0-9]+)* or [a-z0-9]+)([ ,(]|$)'
				if [[ $what == NAME* && ($opt == --switch || $opt == -s) ]]; then
					choices="$(_osio_switches) none"
				elif [[ $what == *'|'* ]]; then
					choices=$(tr '|' '\n' <<<"$what" | grep -E '^[a-z0-9]+$')
				elif [[ $desc =~ $re ]]; then
					choices=${BASH_REMATCH[1]//,/}
					choices=${choices// or / }
				fi
				[[ -n $choices ]] && _osio_words "$choices"
				;;
			esac
			return
		fi
	fi

	if [[ $cur == -* ]]; then
		_osio_words "$(_osio_options "$help")"
		return
	fi
	local kind=${kinds[${#pos[@]}]-}
	# The last kind repeats when it is "files".
	[[ -z $kind && ${kinds[-1]-} == files ]] && kind=files
	case $kind in
	sub:) _osio_words "$(_osio_list_commands "$help")" ;;
	checkpoint) [[ $sub == apply || $sub == delete ]] && _osio_complete_kind checkpoint ;;
	switch) [[ $sub == show || $sub == delete ]] && _osio_complete_kind switch ;;
	files)
		[[ $sub == create || $sub == info || $sub == convert || $sub == resize ||
			$sub == check || $sub == reconnect || -z $sub ]] && _osio_complete_kind files
		;;
	*) _osio_complete_kind "$kind" ;;
	esac
}
complete -F _osio osio
