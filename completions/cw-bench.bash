# bash completion for cw-bench
_cw_bench()
{
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	--instruments|--rate|--seed|--start|--weeks)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "-h --help --instruments --rate --seed
			--start --version --weeks" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "generate" -- "$cur"))
	fi
}
complete -F _cw_bench cw-bench
