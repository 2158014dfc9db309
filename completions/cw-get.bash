# bash completion for cw-get
_cw_get()
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
	--ttl)
		COMPREPLY=($(compgen -W "60s 5m 15m 1h" -- "$cur"))
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "-c --config -f --l1-file -h --help
			-o --output -q --quiet -v --verbose --no-fill --ttl
			--version -" -- "$cur"))
	fi
}
complete -F _cw_get cw-get
