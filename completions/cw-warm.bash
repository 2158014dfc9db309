# bash completion for cw-warm: the options of the mode already chosen
# (--refresh, --drop, --optimize, --refresh-ahead, --check or --wait,
# --status, --resume), else every option.
_cw_warm()
{
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	-c|--config|-f|--l1-file)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-o|--output)
		COMPREPLY=($(compgen -W "tsv json" -- "$cur"))
		return ;;
	--session)
		COMPREPLY=($(compgen -W "auto sydney tokyo london newyork fomc rba boe boc" \
			-- "$cur"))
		return ;;
	--strategy)
		COMPREPLY=($(compgen -W "on_demand market_open predictive
			pattern background" -- "$cur"))
		return ;;
	-j|--jobs|--at|--deadline|--interval|--lead|--look-ahead|--max-rate|\
	--below|--min-coverage|--min-probability|--resume|--warn-coverage)
		return ;;
	esac
	local mode="" w common="-c --config -f --l1-file -h --help"
	for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
		case $w in
		--refresh|--drop|--optimize|--refresh-ahead|--status|--resume) mode=$w ;;
		--check|--wait) mode=--check ;;
		esac
	done
	if [[ $cur == -* ]]; then
		case $mode in
		--refresh|--drop|--optimize|--status|--resume)
			COMPREPLY=($(compgen -W "$common" -- "$cur")) ;;
		--refresh-ahead) COMPREPLY=($(compgen -W "$common --below
			--max-rate" -- "$cur")) ;;
		--check) COMPREPLY=($(compgen -W "$common --at --interval
			--look-ahead --min-coverage --warn-coverage" -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "$common
			-j --jobs -n --dry-run -o --output -v --verbose --at
			--check --deadline --drop --force --interval --lead
			--look-ahead --max-rate --min-coverage --min-probability
			--optimize --refresh --refresh-ahead --below --resume --session --spread --status
			--strategy --version --wait --warn-coverage" -- "$cur")) ;;
		esac
	fi
}
complete -F _cw_warm cw-warm
