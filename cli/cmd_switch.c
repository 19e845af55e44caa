/* `osio switch`: the virtual switches in the VM store (create, list, show,
 * delete, which refuses a switch that VMs use or disconnects them first), as
 * devices/net/switchdef.h keeps them. */
#include "cli/commands.h"
#include "cli/store_common.h"

#include "devices/net/switchdef.h"
#include "hypervisor/ctlclient.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstore.h"
#include "vmconfig/vmconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_BUF 4096

static void switch_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: osio switch COMMAND [ARGS...]\n"
	    "\n"
	    "Manages the virtual switches that VMs' network adapters join ([nic] switch = NAME).\n"
	    "\n"
	    "commands:\n"
	    "  create NAME --type TYPE    a new switch: nat, private, internal or external\n"
	    "  list [--json]              every switch (\"default\", the built-in NAT, first)\n"
	    "  show NAME [--json]         one switch's settings\n"
	    "  delete NAME [--force]      remove a switch (--force: disconnect its VMs)\n"
	    "\n"
	    "Types: nat (the VMs reach the host's networks through NAT, with DHCP and DNS),\n"
	    "private (VMs on it reach each other only), internal (VMs and the host, on a host\n"
	    "bridge), external (as internal, with a host network adapter on the bridge).\n"
	    "'osio switch COMMAND --help' tells more about each.\n");
}

static int bad_option(int c, char **argv, const char *cmd)
{
	if (c == ':')
		log_error("%s needs a value (see osio switch %s --help)", argv[optind - 1], cmd);
	else
		log_error("unknown option '%s' (see osio switch %s --help)", argv[optind - 1], cmd);
	return 2;
}

static bool name_checked(const char *name)
{
	if (switchdef_name_ok(name))
		return true;
	log_error("'%s' is not a valid switch name: " SWITCHDEF_NAME_RULE, name);
	return false;
}

static json_t *switch_json(const struct net_switch_cfg *cfg)
{
	json_t *o = json_object();
	char buf[SWITCHDEF_NOTES_MAX + 1];
	bool stored = switchdef_notes(cfg->name, buf, sizeof(buf));

	json_object_set_new(o, "name", json_string(cfg->name));
	json_object_set_new(o, "type", json_string(net_switch_kind_name(cfg->kind)));
	if (cfg->kind == NET_SWITCH_NAT) {
		char subnet[32];
		net_subnet_format(cfg->subnet, cfg->netmask, subnet, sizeof(subnet));
		json_object_set_new(o, "subnet", json_string(subnet));
		json_object_set_new(o, "restrict", json_boolean(cfg->restricted));
	}
	if (cfg->kind == NET_SWITCH_INTERNAL || cfg->kind == NET_SWITCH_EXTERNAL)
		json_object_set_new(o, "bridge", json_string(cfg->bridge));
	if (cfg->kind == NET_SWITCH_EXTERNAL)
		json_object_set_new(o, "uplink", json_string(cfg->uplink));
	json_object_set_new(o, "notes", json_string(buf));
	json_object_set_new(o, "builtin", json_boolean(!stored));
	return o;
}

/* --- create --------------------------------------------------------------- */

static void create_usage(FILE *f)
{
	fprintf(f,
		"usage: osio switch create NAME --type TYPE [OPTIONS]\n"
		"\n"
		"Creates a virtual switch in the VM store. NAME: 1-63 letters, digits, '.', '_'\n"
		"or '-'. Creating \"default\" replaces the built-in NAT switch of that name.\n"
		"\n"
		"  -t, --type TYPE      nat, private, internal or external\n"
		"      --subnet CIDR    nat: the VMs' network (default 10.0.2.0/24; prefix 8-30)\n"
		"      --restrict       nat: the VMs reach the host only, no other network\n"
		"      --bridge IF      internal, external: the host bridge (default osbr-NAME,\n"
		"                       or osbr- and a hash for long names); made when needed\n"
		"      --uplink IF      external (required): the host's network adapter that the\n"
		"                       bridge shares with the VMs\n"
		"      --notes TEXT     a description shown by list and show\n"
		"  -h, --help           this text\n"
		"\n"
		"Examples:\n"
		"  osio switch create lab --type private\n"
		"  osio switch create isolated --type nat --subnet 192.168.100.0/24 --restrict\n"
		"  osio switch create hostnet --type internal\n"
		"  osio switch create lan --type external --uplink eth0\n");
}

/* Copies an interface name option, checking it. */
static bool ifname_arg(const char *opt, const char *value, char out[NET_IFNAME_MAX])
{
	if (!switchdef_ifname_ok(value)) {
		log_error("%s '%s': not an interface name (" SWITCHDEF_IFNAME_RULE ")", opt, value);
		return false;
	}
	memcpy(out, value, strlen(value) + 1);
	return true;
}

static int subnet_arg(const char *text, struct net_switch_cfg *cfg)
{
	if (net_subnet_parse(text, &cfg->subnet, &cfg->netmask) < 0) {
		log_error("--subnet '%s': " SWITCHDEF_SUBNET_RULE, text);
		return -EINVAL;
	}
	return 0;
}

static int switch_create(int argc, char **argv)
{
	enum { OPT_SUBNET = 256, OPT_RESTRICT, OPT_BRIDGE, OPT_UPLINK, OPT_NOTES };
	static const struct option opts[] = {
	    {"type", required_argument, NULL, 't'},
	    {"subnet", required_argument, NULL, OPT_SUBNET},
	    {"restrict", no_argument, NULL, OPT_RESTRICT},
	    {"bridge", required_argument, NULL, OPT_BRIDGE},
	    {"uplink", required_argument, NULL, OPT_UPLINK},
	    {"notes", required_argument, NULL, OPT_NOTES},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *type = NULL, *subnet = NULL, *bridge = NULL, *uplink = NULL, *notes = NULL;
	bool restrict_ = false;
	int c;

	log_set_prog("osio switch create");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":t:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			type = optarg;
			break;
		case OPT_SUBNET:
			subnet = optarg;
			break;
		case OPT_RESTRICT:
			restrict_ = true;
			break;
		case OPT_BRIDGE:
			bridge = optarg;
			break;
		case OPT_UPLINK:
			uplink = optarg;
			break;
		case OPT_NOTES:
			notes = optarg;
			break;
		case 'h':
			create_usage(stdout);
			return 0;
		default:
			return bad_option(c, argv, "create");
		}
	}
	if (argc - optind != 1) {
		create_usage(stderr);
		return 2;
	}
	const char *name = argv[optind];
	if (!name_checked(name))
		return 2;

	enum net_switch_kind kind;
	if (!type) {
		log_error("switch '%s': which type? Give --type nat, private, internal or external",
			  name);
		return 2;
	}
	if (net_switch_kind_parse(type, &kind) < 0 || kind == NET_SWITCH_NONE ||
	    kind == NET_SWITCH_FD) {
		log_error(
		    "--type '%s': unknown switch type; use nat, private, internal or external",
		    type);
		return 2;
	}
	struct net_switch_cfg cfg;
	net_switch_cfg_defaults(&cfg, kind, name);
	if ((subnet || restrict_) && kind != NET_SWITCH_NAT) {
		log_error("switch '%s': %s applies to NAT switches only (--type nat)", name,
			  subnet ? "--subnet" : "--restrict");
		return 2;
	}
	if (subnet && subnet_arg(subnet, &cfg) < 0)
		return 2;
	cfg.restricted = restrict_;
	if (bridge && kind != NET_SWITCH_INTERNAL && kind != NET_SWITCH_EXTERNAL) {
		log_error("switch '%s': --bridge applies to internal and external switches only",
			  name);
		return 2;
	}
	if (bridge && !ifname_arg("--bridge", bridge, cfg.bridge))
		return 2;
	if (uplink && kind != NET_SWITCH_EXTERNAL) {
		log_error("switch '%s': --uplink applies to external switches only", name);
		return 2;
	}
	if (kind == NET_SWITCH_EXTERNAL && !uplink) {
		log_error("switch '%s': an external switch needs --uplink IF, the host's network "
			  "adapter it shares (e.g. --uplink eth0; 'ip link' lists them)",
			  name);
		return 2;
	}
	if (uplink && !ifname_arg("--uplink", uplink, cfg.uplink))
		return 2;
	if (notes) {
		json_t *s = json_string(notes);
		json_decref(s);
		if (!s || strlen(notes) > SWITCHDEF_NOTES_MAX) {
			log_error("--notes: write at most %d bytes of UTF-8 text",
				  SWITCHDEF_NOTES_MAX);
			return 2;
		}
	}

	char err[PATH_BUF + 1024];
	int r = switchdef_save(&cfg, false, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		return 1;
	}
	if (notes && notes[0] && (r = switchdef_set_notes(name, notes, err, sizeof(err))) < 0) {
		char ignored[256];
		log_error("%s", err);
		switchdef_delete(name, ignored, sizeof(ignored));
		return 1;
	}
	return 0;
}

/* --- list ----------------------------------------------------------------- */

static void list_usage(FILE *f)
{
	fprintf(f,
		"usage: osio switch list [--json]\n"
		"\n"
		"Lists the virtual switches: the built-in \"default\" NAT switch first, then the\n"
		"store's by name.\n"
		"\n"
		"  -j, --json   a JSON array of objects instead: name, type, subnet and restrict\n"
		"               (nat), bridge (internal, external), uplink (external), notes,\n"
		"               builtin\n"
		"  -h, --help   this text\n");
}

/* The table's rows are gathered first, so that its columns fit them. */
struct list_row {
	char name[NET_NAME_MAX], type[16], net[64], notes[SWITCHDEF_NOTES_MAX + 1];
};

struct list_ctx {
	bool json;
	json_t *array;
	struct list_row *rows;
	size_t n, cap;
};

static int list_one(const struct net_switch_cfg *cfg, void *opaque)
{
	struct list_ctx *ctx = opaque;

	if (ctx->json)
		return json_array_append_new(ctx->array, switch_json(cfg)) ? -ENOMEM : 0;
	if (ctx->n == ctx->cap) {
		size_t cap = ctx->cap ? 2 * ctx->cap : 16;
		struct list_row *rows = realloc(ctx->rows, cap * sizeof(*rows));
		if (!rows)
			return -ENOMEM;
		ctx->rows = rows;
		ctx->cap = cap;
	}
	struct list_row *row = &ctx->rows[ctx->n++];
	snprintf(row->name, sizeof(row->name), "%s", cfg->name);
	snprintf(row->type, sizeof(row->type), "%s", net_switch_kind_name(cfg->kind));
	switchdef_network(cfg, "", "-", row->net, sizeof(row->net));
	if (!switchdef_notes(cfg->name, row->notes, sizeof(row->notes)))
		snprintf(row->notes, sizeof(row->notes), "built in");
	/* One line per switch: the notes' own line breaks become spaces. */
	switchdef_one_line(row->notes);
	return 0;
}

static void print_table(const struct list_ctx *ctx)
{
	int wname = 4, wtype = 4, wnet = 14;

	for (size_t i = 0; i < ctx->n; i++) {
		const struct list_row *r = &ctx->rows[i];
		wname = (int)strlen(r->name) > wname ? (int)strlen(r->name) : wname;
		wtype = (int)strlen(r->type) > wtype ? (int)strlen(r->type) : wtype;
		wnet = (int)strlen(r->net) > wnet ? (int)strlen(r->net) : wnet;
	}
	printf("%-*s  %-*s  %-*s  %s\n", wname, "Name", wtype, "Type", wnet, "Network/Bridge",
	       "Notes");
	for (size_t i = 0; i < ctx->n; i++) {
		const struct list_row *r = &ctx->rows[i];
		if (r->notes[0])
			printf("%-*s  %-*s  %-*s  %s\n", wname, r->name, wtype, r->type, wnet,
			       r->net, r->notes);
		else
			printf("%-*s  %-*s  %s\n", wname, r->name, wtype, r->type, r->net);
	}
}

static int switch_list(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct list_ctx ctx = {0};
	int c;

	log_set_prog("osio switch list");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			ctx.json = true;
			break;
		case 'h':
			list_usage(stdout);
			return 0;
		default:
			return bad_option(c, argv, "list");
		}
	}
	if (argc != optind) {
		list_usage(stderr);
		return 2;
	}
	if (ctx.json) {
		ctx.array = json_array();
		if (!ctx.array) {
			log_error("out of memory");
			return 1;
		}
	}
	char err[PATH_BUF + 1024];
	int r = switchdef_foreach(list_one, &ctx, err, sizeof(err));
	int status = 0;
	if (ctx.json) {
		status = store_print_json(ctx.array);
		json_decref(ctx.array);
	} else {
		print_table(&ctx);
		free(ctx.rows);
	}
	if (r < 0) {
		log_error("%s", r == -ENOMEM ? "out of memory" : err);
		return 1;
	}
	return status;
}

/* --- show ----------------------------------------------------------------- */

static void show_usage(FILE *f)
{
	fprintf(f,
		"usage: osio switch show NAME [--json]\n"
		"\n"
		"Shows one virtual switch's settings.\n"
		"\n"
		"  -j, --json   one JSON object instead (the fields of 'osio switch list --json')\n"
		"  -h, --help   this text\n");
}

static int switch_show(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	bool as_json = false;
	int c;

	log_set_prog("osio switch show");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			as_json = true;
			break;
		case 'h':
			show_usage(stdout);
			return 0;
		default:
			return bad_option(c, argv, "show");
		}
	}
	if (argc - optind != 1) {
		show_usage(stderr);
		return 2;
	}
	const char *name = argv[optind];
	if (!name_checked(name))
		return 2;
	struct net_switch_cfg cfg;
	char err[PATH_BUF + 1024];
	if (switchdef_load(name, &cfg, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	json_t *o = switch_json(&cfg);
	if (!o) {
		log_error("out of memory");
		return 1;
	}
	if (as_json) {
		int status = store_print_json(o);
		json_decref(o);
		return status;
	}
	json_t *v;
	printf("Name:     %s\n", cfg.name);
	printf("Type:     %s\n", net_switch_kind_name(cfg.kind));
	if ((v = json_object_get(o, "subnet")))
		printf("Subnet:   %s\n", json_string_value(v));
	if (cfg.kind == NET_SWITCH_NAT)
		printf("Restrict: %s\n",
		       cfg.restricted ? "yes (the VMs reach the host only)" : "no");
	if ((v = json_object_get(o, "bridge")))
		printf("Bridge:   %s\n", json_string_value(v));
	if ((v = json_object_get(o, "uplink")))
		printf("Uplink:   %s\n", json_string_value(v));
	if (json_is_true(json_object_get(o, "builtin")))
		printf("Built in: yes ('osio switch create %s ...' replaces it)\n", cfg.name);
	const char *notes = json_string_value(json_object_get(o, "notes"));
	if (notes && notes[0])
		printf("Notes:    %s\n", notes);
	json_decref(o);
	return 0;
}

/* --- delete --------------------------------------------------------------- */

static void delete_usage(FILE *f)
{
	fprintf(f, "usage: osio switch delete NAME [--force]\n"
		   "\n"
		   "Removes a virtual switch from the VM store. A switch that VMs use (a [nic]\n"
		   "section's switch = NAME in their vmconfig, or an adapter of a running VM\n"
		   "plugged into it) is refused, naming those VMs. Deleting a stored \"default\"\n"
		   "brings back the built-in NAT switch; the built-in one cannot be deleted.\n"
		   "\n"
		   "  -f, --force  disconnect the VMs first: their adapters on NAME get\n"
		   "               connected = no and lose their switch line (the rest of\n"
		   "               each vmconfig as it was), and running VMs' adapters are\n"
		   "               unplugged now\n"
		   "  -h, --help   this text\n");
}

#define SWITCH_QUERY_MS 3000

/* A VM that uses the switch: adapters naming it in its vmconfig, and
 * whether its worker has adapters plugged into it now. */
struct sw_user {
	char name[72];
	unsigned in_config;
	bool live;
	int lock;
};

/* How many [nic] sections of cfg name switch sw (no switch key: "default"). */
static unsigned config_uses(const struct vmconfig *cfg, const char *sw)
{
	unsigned n = 0;

	for (unsigned k = 0; k < vmconfig_count(cfg, "nic"); k++) {
		const char *nm = vmconfig_section_name(cfg, "nic", k);
		const char *v = vmconfig_get(cfg, "nic", nm[0] ? nm : NULL, "switch");

		n += strcmp(v ? v : "default", sw) == 0;
	}
	return n;
}

/* The adapters of VM name's running worker that are plugged into sw (the
 * control API's nics), as a JSON array of their ids; NULL when it does not
 * run, does not answer, or has none there. */
static json_t *live_on(const char *name, const char *sw)
{
	json_t *ret = NULL, *ids, *nic;
	char err[512];
	size_t i;

	if (!vmstore_worker_alive(name, NULL) ||
	    ctl_query(name, "nics", NULL, &ret, SWITCH_QUERY_MS, err, sizeof(err)) < 0)
		return NULL;
	ids = json_array();
	json_array_foreach(json_object_get(ret, "nics"), i, nic)
	{
		const char *on = json_string_value(json_object_get(nic, "switch"));
		json_t *id = json_object_get(nic, "nic");

		if (on && strcmp(on, sw) == 0 && json_is_string(id))
			json_array_append(ids, id);
	}
	json_decref(ret);
	if (ids && json_array_size(ids) == 0) {
		json_decref(ids);
		ids = NULL;
	}
	return ids;
}

/* The VM's vmconfig, or NULL (a damaged one uses no switch: it cannot
 * start). */
static struct vmconfig *load_config(const char *name)
{
	struct vmconfig_error e;
	char path[PATH_BUF];

	if (vmstore_vmconfig(name, path, sizeof(path)) < 0)
		return NULL;
	return vmconfig_load(path, &e);
}

/* The VMs that use switch sw, into *users (*n of them). */
static int find_users(const char *sw, struct sw_user **users, unsigned *n)
{
	char **names = NULL;
	unsigned count = 0;
	int r;

	*users = NULL;
	*n = 0;
	if ((r = vmstore_list(&names, &count)) < 0)
		return r;
	if (count && !(*users = calloc(count, sizeof(**users)))) {
		vmstore_free_names(names);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < count; i++) {
		struct sw_user *u = &(*users)[*n];
		struct vmconfig *cfg = load_config(names[i]);
		json_t *live = live_on(names[i], sw);

		u->in_config = cfg ? config_uses(cfg, sw) : 0;
		u->live = live != NULL;
		u->lock = -1;
		vmconfig_free(cfg);
		json_decref(live);
		if (!u->in_config && !u->live)
			continue;
		snprintf(u->name, sizeof(u->name), "%s", names[i]);
		(*n)++;
	}
	vmstore_free_names(names);
	return 0;
}

/* Disconnects VM u (its command lock held) from switch sw: its vmconfig's
 * adapters on sw get connected = no and lose their switch key, then its
 * running worker's adapters on sw are unplugged. 0, or -errno after one
 * message. */
static int disconnect_user(const struct sw_user *u, const char *sw)
{
	struct vmconfig_error e;
	struct vmconfig *cfg = NULL;
	char path[PATH_BUF], line[1024], err[512];
	unsigned changed = 0, unplugged = 0;
	json_t *live = NULL, *id;
	size_t i;
	int r = 0;

	if (vmstore_vmconfig(u->name, path, sizeof(path)) == 0 &&
	    !(cfg = vmconfig_load(path, &e)) && u->in_config) {
		vmconfig_error_format(&e, line, sizeof(line));
		log_error("%s", line);
		return -EINVAL;
	}
	for (unsigned k = 0; cfg && k < vmconfig_count(cfg, "nic"); k++) {
		const char *nm = vmconfig_section_name(cfg, "nic", k);
		const char *sect = nm[0] ? nm : NULL;
		const char *v = vmconfig_get(cfg, "nic", sect, "switch");

		if (!v || strcmp(v, sw) != 0)
			continue;
		if (store_config_set(cfg, "nic", sect, "connected", "no") < 0) {
			r = -EINVAL;
			goto out;
		}
		vmconfig_unset(cfg, "nic", sect, "switch");
		changed++;
	}
	if (changed && (r = vmconfig_save(cfg, NULL)) < 0) {
		log_error("%s: cannot write it: %s", path, strerror(-r));
		goto out;
	}
	live = live_on(u->name, sw);
	json_array_foreach(live, i, id)
	{
		json_t *args = json_pack("{s:O}", "nic", id);

		r = ctl_query(u->name, "nic-disconnect", args, NULL, SWITCH_QUERY_MS, err,
			      sizeof(err));
		if (r < 0) {
			log_error("VM '%s': cannot unplug adapter %s from switch '%s': %s", u->name,
				  json_string_value(id), sw, err);
			goto out;
		}
		unplugged++;
	}
	printf("VM '%s': disconnected from switch '%s' (%u adapter%s in its vmconfig, %u "
	       "unplugged while it runs)\n",
	       u->name, sw, changed, changed == 1 ? "" : "s", unplugged);
out:
	json_decref(live);
	vmconfig_free(cfg);
	return r;
}

/* "a, b, c" (cut short with ", ..." when it does not fit). */
static void user_names(const struct sw_user *users, unsigned n, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		int w = snprintf(buf + o, size - o, "%s%s", i ? ", " : "", users[i].name);
		if (w < 0 || (size_t)w >= size - o) {
			snprintf(buf + (o < size - 6 ? o : size - 6), 6, ", ...");
			return;
		}
		o += (size_t)w;
	}
}

static int switch_delete(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct sw_user *users = NULL;
	struct net_switch_cfg cfg;
	unsigned n = 0;
	bool force = false;
	int c, r, status = 1;

	log_set_prog("osio switch delete");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			delete_usage(stdout);
			return 0;
		default:
			return bad_option(c, argv, "delete");
		}
	}
	if (argc - optind != 1) {
		delete_usage(stderr);
		return 2;
	}
	const char *name = argv[optind];
	if (!name_checked(name))
		return 2;
	char err[PATH_BUF + 1024];
	/* "default" never goes away (the built-in one comes back), so its users
	 * keep a switch; a damaged definition can be deleted. */
	if (strcmp(name, "default") != 0) {
		r = switchdef_load(name, &cfg, err, sizeof(err));
		if (r == -ENOENT) {
			log_error("%s", err);
			return 1;
		}
		if ((r = find_users(name, &users, &n)) < 0) {
			log_error("cannot read the VM store: %s", strerror(-r));
			return 1;
		}
	}
	if (n && !force) {
		char list[1024];
		user_names(users, n, list, sizeof(list));
		log_error("switch '%s' is in use by %s %s; disconnect %s adapters first, or "
			  "'osio switch delete %s --force' does it and deletes the switch",
			  name, n == 1 ? "the VM" : "the VMs", list, n == 1 ? "its" : "their",
			  name);
		goto out;
	}
	/* Every user is held still (its command lock) before anything changes. */
	for (unsigned i = 0; i < n; i++) {
		char lockerr[512];
		if (vmstore_lock(users[i].name, &users[i].lock, lockerr, sizeof(lockerr)) < 0) {
			users[i].lock = -1;
			log_error("%s", lockerr);
			goto out;
		}
	}
	for (unsigned i = 0; i < n; i++)
		if (disconnect_user(&users[i], name) < 0)
			goto out;
	if (switchdef_delete(name, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out;
	}
	status = 0;
out:
	for (unsigned i = 0; i < n; i++)
		if (users[i].lock >= 0)
			vmstore_unlock(users[i].lock);
	free(users);
	return status;
}

int cmd_switch(int argc, char **argv)
{
	static const struct command sub[] = {
	    {"create", NULL, switch_create},
	    {"list", NULL, switch_list},
	    {"show", NULL, switch_show},
	    {"delete", NULL, switch_delete},
	};

	log_set_prog("osio switch");
	if (argc < 2) {
		switch_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		switch_usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		if (!strcmp(argv[1], sub[i].name))
			return sub[i].fn(argc - 1, argv + 1);
	log_error("unknown command '%s' (see osio switch --help)", argv[1]);
	return 2;
}
