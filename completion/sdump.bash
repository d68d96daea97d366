# SPDX-License-Identifier: MIT
# bash completion for sdump(1): subcommands, the options of each, image
# directories for -D and --parent, PIDs for -t, the values of --track and
# --progress. Installed as share/bash-completion/completions/sdump; works
# with or without the bash-completion package (it uses none of its helpers).

# The options of each subcommand (the first word: the global ones).
_sdump_options() {
	local common="-v --verbose --verbosity -q --quiet --log-file -h --help"
	case $1 in
	"") echo "-v --verbose --verbosity -q --quiet -o --log-file -h --help -V --version" ;;
	check) echo "-t --tree --json $common -o" ;;
	pre-dump) echo "-t --tree -D --images-dir --parent --track -j --shell-job --threads --compress-level --ghost-limit --progress --json --display-stats --prev-images-dir $common -o" ;;
	dump) echo "-t --tree -D --images-dir --parent -R --leave-running -s --leave-stopped --live --memory-budget --external --tcp-established --track -j --shell-job --threads --compress-level --ghost-limit --progress --json --display-stats --prev-images-dir $common -o" ;;
	show) echo "-D --images-dir --json --chain $common -o" ;;
	verify) echo "-D --images-dir --json $common -o" ;;
	extract) echo "-D --images-dir --pid -a --addr -l --len -o --output $common" ;;
	coredump) echo "-D --images-dir --pid -o --output $common" ;;
	release) echo "-t --tree $common -o" ;;
	squash) echo "-D --images-dir --from $common -o" ;;
	prune) echo "-k --keep $common -o" ;;
	restore) echo "-D --images-dir -d --restore-detached -j --shell-job --inherit-fd --file-changed --pidfile --tcp-established --tcp-close --cgroup --lazy --progress --display-stats --json $common -o" ;;
	migrate) echo "-t --tree --to --downtime --max-rounds --auto-converge --bandwidth --tcp-established --tls-cert --tls-key --tls-ca --track --threads --compress-level --work-dir --progress --json --display-stats $common -o" ;;
	receive) echo "-D --images-dir --listen --restore --lazy -d --restore-detached -j --shell-job --tls-cert --tls-key --tls-ca --insecure $common -o" ;;
	esac
}

_sdump() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev="" cmd="" i w
	local commands="check pre-dump dump show verify extract coredump restore release squash prune migrate receive"

	COMPREPLY=()
	# "--parent=img/1": bash splits at '=' (COMP_WORDBREAKS); the option is two words back
	if [ "$COMP_CWORD" -ge 1 ]; then
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		if [ "$prev" = "=" ] && [ "$COMP_CWORD" -ge 2 ]; then
			prev=${COMP_WORDS[COMP_CWORD - 2]}
		elif [ "$cur" = "=" ]; then
			prev=${COMP_WORDS[COMP_CWORD - 1]}
			cur=""
		fi
	fi

	# the subcommand: the first word that is neither an option nor an option's value
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-o | --log-file)
			# its value, "=" and the value when written --log-file=FILE
			if [ "${COMP_WORDS[i + 1]:-}" = "=" ]; then ((i += 2)); else ((i++)); fi ;;
		-*) ;;
		*) cmd=$w; break ;;
		esac
	done

	case $prev in
	-D | --images-dir | --parent | --prev-images-dir | --from | --work-dir)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return 0 ;;
	-t | --tree)
		# the PIDs of /proc
		local pids
		pids=$(cd /proc 2>/dev/null && printf '%s\n' [0-9]*)
		mapfile -t COMPREPLY < <(compgen -W "$pids" -- "$cur")
		return 0 ;;
	--track)
		mapfile -t COMPREPLY < <(compgen -W "auto soft-dirty uffd-wp none" -- "$cur")
		return 0 ;;
	--progress)
		mapfile -t COMPREPLY < <(compgen -W "auto always never" -- "$cur")
		return 0 ;;
	-o | --log-file | --output | --tls-cert | --tls-key | --tls-ca)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0 ;;
	--compress-level)
		mapfile -t COMPREPLY < <(compgen -W "auto -1 1 3 19" -- "$cur")
		return 0 ;;
	--threads | --ghost-limit | --external | -a | --addr | -l | --len | -k | --keep | --to | --listen | \
	--downtime | --max-rounds | --bandwidth)
		return 0 ;;
	esac

	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_sdump_options "")" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
		fi
		return 0
	fi
	# prune: the newest pass of each chain, image directories
	if [ "$cmd" = prune ] && [[ $cur != -* ]]; then
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return 0
	fi
	mapfile -t COMPREPLY < <(compgen -W "$(_sdump_options "$cmd")" -- "$cur")
	return 0
}

complete -F _sdump sdump
