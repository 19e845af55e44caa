/* `osio switch`: the virtual switches in the VM store (create, list, show,
 * delete), as devices/net/switchdef.h keeps them. */
#include "cli/commands.h"
#include "cli/store_common.h"

#include "devices/net/switchdef.h"
#include "hypervisor/log.h"

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
	    "  delete NAME                remove a switch\n"
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
	fprintf(
	    f,
	    "usage: osio switch delete NAME\n"
	    "\n"
	    "Removes a virtual switch from the VM store. Running VMs keep their connections;\n"
	    "VMs that name it cannot start until it exists again. Deleting a stored \"default\"\n"
	    "brings back the built-in NAT switch.\n"
	    "\n"
	    "  -h, --help   this text\n");
}

static int switch_delete(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;

	log_set_prog("osio switch delete");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
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
	if (switchdef_delete(name, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	return 0;
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
