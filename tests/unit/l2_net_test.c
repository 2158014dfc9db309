#include <criterion/criterion.h>
#include <string.h>

#include "l2_net_int.h"

static unsigned
slot(const char *key)
{
	return cw_l2_net_slot(key, strlen(key));
}

/* The slots Redis Cluster itself gives (CLUSTER KEYSLOT): a key routed
 * elsewhere would be answered MOVED on every lookup. */
Test(l2_net, slots_are_redis_clusters)
{
	cr_assert_eq(slot("123456789"), 0x31c3u);	/* the spec's check */
	cr_assert_eq(slot("foo"), 12182u);
	cr_assert_eq(slot("somekey"), 11058u);
	cr_assert_eq(slot(""), 0u);
}

/* The hash tag: the first "{...}" with something inside. */
Test(l2_net, a_hash_tag_chooses_the_slot)
{
	cr_assert_eq(slot("cw:{labels:EUR_USD:H4:2024-01-02} lock"),
	    slot("labels:EUR_USD:H4:2024-01-02"));
	cr_assert_eq(slot("{user1000}.following"), slot("user1000"));
	/* An empty tag is none: the whole key is hashed. */
	cr_assert_neq(slot("foo{}{bar}"), slot("bar"));
	cr_assert_eq(slot("foo{{bar}}zap"), slot("{bar"));
	cr_assert_eq(slot("foo{bar}{zap}"), slot("bar"));
	/* An unclosed brace is no tag. */
	cr_assert_neq(slot("foo{bar"), slot("bar"));
}

static int
check(const char *url)
{
	struct cw_err e;

	return cw_l2_net_check_url(url, &e);
}

Test(l2_net, the_urls_it_takes)
{
	cr_assert_eq(check("redis://127.0.0.1:6379/0"), CW_OK);
	cr_assert_eq(check("redis://me@h"), CW_OK);
	cr_assert_eq(check("unix:///run/redis.sock"), CW_OK);
	cr_assert_eq(check("redis+cluster://a:7000,b:7001,c"), CW_OK);
	cr_assert_eq(check("redis+sentinel://a:26379,b/mymaster"), CW_OK);
	cr_assert_eq(check("redis://me:secret@h"), CW_ECONFIG,
	    "a password in the URL");
	cr_assert_eq(check("redis+cluster://a:7000/1"), CW_ECONFIG,
	    "a cluster has database 0 alone");
	cr_assert_eq(check("redis+cluster://a:7000,,b"), CW_ECONFIG,
	    "an empty host");
	cr_assert_eq(check("redis+cluster://a:0"), CW_ECONFIG, "port 0");
	cr_assert_eq(check("redis+sentinel://a:26379"), CW_ECONFIG,
	    "no master name");
	cr_assert_eq(check("redis+sentinel://a/m/0"), CW_ECONFIG,
	    "a path after the name");
	cr_assert_eq(check("memcached://a"), CW_ECONFIG);
}
