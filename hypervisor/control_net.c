/* Control API network commands: nics (every adapter, its switch, link and
 * counters), nic-connect and nic-disconnect (a running VM's adapters moved
 * between switches), and "nic-link" events when an adapter's link changes. */
#include "hypervisor/control.h"

#include "devices/device.h"
#include "devices/net/net.h"
#include "devices/net/switchdef.h"
#include "hypervisor/evloop.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NICS_MAX 16
/* How often link changes that no command made (a switch that went away)
 * are looked for. */
#define LINK_POLL_NS (500ull * 1000 * 1000)
/* How long a command waits for the VM's event loop to move an adapter. */
#define CONNECT_WAIT_S 10

struct nic {
	char id[32];
	const char *model; /* "e1000", "virtio" */
	struct net_port *port;
	/* The adapter's own settings (its vmconfig [nic]): kept across
	 * switches, used where the switch is a NAT one. */
	struct net_forward fwd[NET_FORWARDS_MAX];
	unsigned nfwd;
	char tftp[PATH_MAX];
	char bootfile[256];
	bool link; /* as last reported (control thread) */
};

struct control_net {
	struct control *ctl;
	struct machine *m;
	struct evtimer *poll;
	struct nic nics[NICS_MAX];
	unsigned n;
};

/* A move of an adapter, run on the VM's event loop (switch backends join
 * there), waited for by the command. Freed by whoever lets go last. */
struct connect_job {
	pthread_mutex_t lock;
	pthread_cond_t done_cv;
	struct net_port *port;
	struct net_switch_cfg cfg;
	int result;
	bool done;
	int refs;
};

static void job_put(struct connect_job *j)
{
	pthread_mutex_lock(&j->lock);
	bool last = --j->refs == 0;
	pthread_mutex_unlock(&j->lock);
	if (!last)
		return;
	pthread_cond_destroy(&j->done_cv);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

static void run_job(void *opaque)
{
	struct connect_job *j = opaque;
	int r = net_port_connect(j->port, &j->cfg);

	pthread_mutex_lock(&j->lock);
	j->result = r;
	j->done = true;
	pthread_cond_signal(&j->done_cv);
	pthread_mutex_unlock(&j->lock);
	job_put(j);
}

/* net_port_connect on the VM's loop; -ETIMEDOUT when it does not answer. */
static int connect_on_loop(struct machine *m, struct net_port *p, const struct net_switch_cfg *cfg)
{
	struct connect_job *j = calloc(1, sizeof(*j));
	struct timespec until;
	int r;

	if (!j)
		return -ENOMEM;
	pthread_mutex_init(&j->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->done_cv, &ca);
	pthread_condattr_destroy(&ca);
	j->port = p;
	j->cfg = *cfg;
	j->refs = 2;
	if ((r = evloop_call(m->loop, run_job, j)) < 0) {
		j->refs = 1;
		job_put(j);
		return r;
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += CONNECT_WAIT_S;
	pthread_mutex_lock(&j->lock);
	while (!j->done && pthread_cond_timedwait(&j->done_cv, &j->lock, &until) == 0)
		;
	r = j->done ? j->result : -ETIMEDOUT;
	pthread_mutex_unlock(&j->lock);
	job_put(j);
	return r;
}

static struct nic *find_nic(struct control_net *cn, const char *id)
{
	for (unsigned i = 0; i < cn->n; i++)
		if (strcmp(cn->nics[i].id, id) == 0)
			return &cn->nics[i];
	return NULL;
}

static json_t *nic_json(const struct nic *nic)
{
	struct net_switch_cfg cfg;
	struct net_port_stats st;
	uint8_t mac[NET_MAC_LEN];
	char text[18];

	net_port_mac(nic->port, mac);
	net_mac_format(mac, text);
	net_port_switch(nic->port, &cfg);
	net_port_stats(nic->port, &st);
	bool plugged = cfg.kind != NET_SWITCH_NONE;
	return json_pack(
	    "{s:s,s:s,s:s,s:o,s:o,s:b,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I}}", "nic", nic->id, "model",
	    nic->model, "mac", text, "switch", plugged ? json_string(cfg.name) : json_null(),
	    "switch-type", plugged ? json_string(net_switch_kind_name(cfg.kind)) : json_null(),
	    "link", net_port_link_up(nic->port), "stats", "rx-frames", (json_int_t)st.rx_frames,
	    "rx-bytes", (json_int_t)st.rx_bytes, "rx-dropped", (json_int_t)st.rx_dropped,
	    "tx-frames", (json_int_t)st.tx_frames, "tx-bytes", (json_int_t)st.tx_bytes,
	    "tx-dropped", (json_int_t)st.tx_dropped, "guest-errors", (json_int_t)st.guest_errors);
}

/* Sends "nic-link" for every adapter whose link is not as last reported. */
static void report_links(struct control_net *cn)
{
	for (unsigned i = 0; i < cn->n; i++) {
		struct nic *nic = &cn->nics[i];
		struct net_switch_cfg cfg;
		bool up = net_port_link_up(nic->port);

		if (up == nic->link)
			continue;
		nic->link = up;
		net_port_switch(nic->port, &cfg);
		control_emit(
		    cn->ctl, "nic-link",
		    json_pack("{s:s,s:b,s:o}", "nic", nic->id, "link", up, "switch",
			      cfg.kind != NET_SWITCH_NONE ? json_string(cfg.name) : json_null()));
	}
}

static void poll_links(void *opaque)
{
	report_links(opaque);
}

static int nics_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
		    void *opaque)
{
	struct control_net *cn = opaque;
	json_t *list = json_array();

	for (unsigned i = 0; list && i < cn->n; i++)
		json_array_append_new(list, nic_json(&cn->nics[i]));
	reply->ret = json_pack("{s:o}", "nics", list);
	return reply->ret ? 0 : control_fail(c, CONTROL_E_FAILED, "out of memory");
}

/* The adapter an "nic" argument names, or NULL with the failure described. */
static struct nic *nic_arg(struct control_client *c, struct control_net *cn, json_t *args)
{
	json_t *v = json_object_get(args, "nic");
	struct nic *nic;

	if (!json_is_string(v)) {
		control_fail(c, CONTROL_E_INVALID,
			     "nic: the adapter's name is needed (the nics command lists them)");
		return NULL;
	}
	nic = find_nic(cn, json_string_value(v));
	if (!nic)
		control_fail(c, CONTROL_E_INVALID,
			     "nic: the VM has no adapter '%.64s' (the nics command lists them)",
			     json_string_value(v));
	return nic;
}

static int move(struct control_client *c, struct control_net *cn, struct nic *nic,
		struct net_switch_cfg *cfg, struct control_reply *reply)
{
	int r;

	/* The adapter's own settings go with it. */
	memcpy(cfg->fwd, nic->fwd, sizeof(cfg->fwd));
	cfg->nfwd = nic->nfwd;
	memcpy(cfg->tftp, nic->tftp, sizeof(cfg->tftp));
	memcpy(cfg->bootfile, nic->bootfile, sizeof(cfg->bootfile));
	r = connect_on_loop(cn->m, nic->port, cfg);
	report_links(cn);
	if (r == -ETIMEDOUT)
		return control_fail(c, CONTROL_E_UNAVAILABLE,
				    "the VM's event loop did not answer in %d s; try again",
				    CONNECT_WAIT_S);
	if (r < 0)
		return control_fail(c, CONTROL_E_FAILED,
				    "%s: cannot join the %s switch '%s': %s (the VM's log says "
				    "more); the adapter is disconnected now",
				    nic->id, net_switch_kind_name(cfg->kind), cfg->name,
				    strerror(-r));
	reply->ret = nic_json(nic);
	return reply->ret ? 0 : control_fail(c, CONTROL_E_FAILED, "out of memory");
}

static int connect_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
		       void *opaque)
{
	struct control_net *cn = opaque;
	struct nic *nic = nic_arg(c, cn, args);
	json_t *sw = json_object_get(args, "switch");
	struct net_switch_cfg cfg;
	char err[512];
	int r;

	if (!nic)
		return -1;
	if (!json_is_string(sw))
		return control_fail(c, CONTROL_E_INVALID,
				    "switch: the name of a switch is needed (osio switch list)");
	r = switchdef_load(json_string_value(sw), &cfg, err, sizeof(err));
	if (r == -ENOENT)
		return control_fail(c, CONTROL_E_INVALID,
				    "switch: no switch '%.64s'; create it with: osio switch create "
				    "%.64s --type private",
				    json_string_value(sw), json_string_value(sw));
	if (r < 0)
		return control_fail(c, CONTROL_E_INVALID, "switch: %s", err);
	return move(c, cn, nic, &cfg, reply);
}

static int disconnect_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
			  void *opaque)
{
	struct control_net *cn = opaque;
	struct nic *nic = nic_arg(c, cn, args);
	struct net_switch_cfg cfg;

	if (!nic)
		return -1;
	net_port_switch(nic->port, &cfg);
	cfg.kind = NET_SWITCH_NONE;
	return move(c, cn, nic, &cfg, reply);
}

static void net_free(void *opaque)
{
	struct control_net *cn = opaque;

	evtimer_free(cn->poll);
	free(cn);
}

/* The machine's adapters: the devices whose port net_port_find knows. */
static void find_nics(struct control_net *cn)
{
	for (struct device *d = cn->m->devices; d && cn->n < NICS_MAX; d = d->next) {
		struct net_port *p = net_port_find(cn->m, d->id);
		struct nic *nic = &cn->nics[cn->n];
		struct net_switch_cfg cfg;

		if (!p)
			continue;
		snprintf(nic->id, sizeof(nic->id), "%s", d->id);
		nic->model = strcmp(d->model->name, "virtio-net") == 0 ? "virtio" : d->model->name;
		nic->port = p;
		/* The settings it was created with (kept by an unplugged port too). */
		net_port_switch(p, &cfg);
		memcpy(nic->fwd, cfg.fwd, sizeof(nic->fwd));
		nic->nfwd = cfg.nfwd;
		memcpy(nic->tftp, cfg.tftp, sizeof(nic->tftp));
		memcpy(nic->bootfile, cfg.bootfile, sizeof(nic->bootfile));
		nic->link = net_port_link_up(p);
		cn->n++;
	}
}

void control_net_register(struct control *ctl, struct machine *m)
{
	struct control_net *cn = calloc(1, sizeof(*cn));

	if (!cn) {
		log_warn("control: out of memory: no network commands");
		return;
	}
	cn->ctl = ctl;
	cn->m = m;
	if (m)
		find_nics(cn);
	cn->poll = cn->n ? evtimer_new(control_loop(ctl), poll_links, cn) : NULL;
	if (cn->poll)
		evtimer_arm(cn->poll, LINK_POLL_NS, LINK_POLL_NS);
	control_on_free(ctl, net_free, cn);
	control_register(ctl, "nics", nics_cmd, cn);
	control_register(ctl, "nic-connect", connect_cmd, cn);
	control_register(ctl, "nic-disconnect", disconnect_cmd, cn);
}
