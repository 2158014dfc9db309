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
	cr_assert_eq(check("unix://run/redis.sock"), CW_ECONFIG,
	    "a socket's path is absolute");
	cr_assert_eq(check("redis://h/x"), CW_ECONFIG, "a database by name");
	cr_assert_eq(check("redis://h/-1"), CW_ECONFIG, "a negative database");
	cr_assert_eq(check("redis://h/7"), CW_OK);
}

/* What each refused URL says: the setting, the URL and the reason. */
Test(l2_net, a_refused_url_says_why)
{
	char many[256] = "redis+cluster://h1";
	struct cw_err e;

	for (int i = 2; i <= 17; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
		    ",h%d", i);
	cr_assert_eq(cw_l2_net_check_url(many, &e), CW_ECONFIG);
	cr_assert_str_eq(e.msg, "l2.url 'redis+cluster://h1,h2,h3,h4,h5,h6,"
	    "h7,h8,h9,h10,h11,h12,h13,h14,h15,h16,h17': more than 16 hosts");
	cr_assert_eq(cw_l2_net_check_url("redis://h/x", &e), CW_ECONFIG);
	cr_assert_str_eq(e.msg, "l2.url 'redis://h/x': bad database number");
	cr_assert_eq(cw_l2_net_check_url("unix://sock", &e), CW_ECONFIG);
	cr_assert_str_eq(e.msg,
	    "l2.url 'unix://sock': expected unix:///path/to/socket");
	cr_assert_eq(cw_l2_net_check_url("redis+sentinel://a", &e),
	    CW_ECONFIG);
	cr_assert_str_eq(e.msg, "l2.url 'redis+sentinel://a': expected "
	    "redis+sentinel://host:port[,...]/mastername");
}

/* Every edge of the URL's grammar, with what it says. */
Test(l2_net, the_edges_of_a_url)
{
	static const struct {
		const char *url, *msg;	/* msg NULL: taken */
	} cases[] = {
		{ "redis://h:65535", NULL },
		{ "redis://h:1/1000000", NULL },
		{ "redis://me:@h", NULL },	/* a user, an empty password */
		{ "redis://h/", NULL },		/* no database: 0 */
		{ "redis+sentinel://me@a/m", NULL },
		{ "redis://h:65536", "l2.url 'redis://h:65536': bad port" },
		{ "redis://h:", "l2.url 'redis://h:': bad port" },
		{ "redis://h:12x", "l2.url 'redis://h:12x': bad port" },
		{ "redis://:6379", "l2.url 'redis://:6379': no host" },
		{ "redis://h/1000001",
		  "l2.url 'redis://h/1000001': bad database number" },
		{ "redis+cluster://me:pw@a", "l2.url: no password in the URL; "
		  "use CW_REDIS_PASSWORD or l2.password_file" },
		{ "redis+sentinel://me:pw@a/m", "l2.url: no password in the "
		  "URL; use CW_REDIS_PASSWORD or l2.password_file" },
		{ "redis+sentinel://a/", "l2.url 'redis+sentinel://a/': "
		  "expected redis+sentinel://host:port[,...]/mastername" },
		{ "redis+cluster://a:7000/", NULL },
		{ "unix://", "l2.url 'unix://': expected "
		  "unix:///path/to/socket" },
	};
	char host[300], url[320], want[400];
	struct cw_err e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].msg == NULL) {
			cr_assert_eq(cw_l2_net_check_url(cases[i].url, &e),
			    CW_OK, "%s: %s", cases[i].url, e.msg);
			continue;
		}
		cr_assert_eq(cw_l2_net_check_url(cases[i].url, &e),
		    CW_ECONFIG, "%s", cases[i].url);
		cr_assert_str_eq(e.msg, cases[i].msg);
	}
	/* A host name longer than a host name can be (the message, which
	 * quotes it, is cut at the error's size). */
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(url, sizeof(url), "redis://%s", host);
	cr_assert_eq(cw_l2_net_check_url(url, &e), CW_ECONFIG);
	snprintf(want, sizeof(want), "l2.url '%s", url);
	cr_assert_eq(strncmp(e.msg, want, strlen(e.msg)), 0, "%s", e.msg);
	cr_assert_eq(strlen(e.msg), sizeof(e.msg) - 1);
}
