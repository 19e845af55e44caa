/* The [nic] section: lists of port forwards, the rules between its keys, and
 * the adapters of a vmconfig into the spec (names, MACs, switches). */
#include "vmconfig/internal.h"

#include "devices/net/net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

int vmconfig_parse_forwards(const char *s, char (*out)[VM_NIC_FORWARD_LEN], unsigned *n, size_t *at,
			    char *why, size_t whylen)
{
	const char *p = s;
	unsigned count = 0;
	char entry[VM_NIC_FORWARD_LEN], err[256];

	for (;;) {
		const char *w, *end;
		struct net_forward f;
		size_t len;

		while (is_space(*p))
			p++;
		w = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > w && is_space(end[-1]))
			end--;
		len = (size_t)(end - w);
		if (at)
			*at = (size_t)(w - s);
		if (len == 0) {
			if (why)
				snprintf(why, whylen,
					 "an empty entry; write forwards separated by commas, e.g. "
					 "tcp:127.0.0.1:2222 -> 22, udp::5555 -> 5555");
			return -EINVAL;
		}
		if (len >= sizeof(entry)) {
			if (why)
				snprintf(why, whylen,
					 "a forward of %zu bytes (at most %zu); write it like "
					 "tcp:127.0.0.1:2222 -> 22",
					 len, sizeof(entry) - 1);
			return -EINVAL;
		}
		memcpy(entry, w, len);
		entry[len] = '\0';
		if (net_forward_parse(entry, &f, err, sizeof(err)) < 0) {
			if (why)
				snprintf(why, whylen, "%s", err); /* names the entry */
			return -EINVAL;
		}
		if (count == VM_NIC_FORWARDS_MAX) {
			if (why)
				snprintf(why, whylen,
					 "more than %d forwards; an adapter has at most %d",
					 VM_NIC_FORWARDS_MAX, VM_NIC_FORWARDS_MAX);
			return -EINVAL;
		}
		if (out)
			memcpy(out[count], entry, len + 1);
		count++;
		if (!*p)
			break;
		p++; /* the comma */
	}
	if (n)
		*n = count;
	if (at)
		*at = 0;
	return 0;
}

/* The name an unnamed [nic] goes by: "nicI" (I its place among the
 * adapters), or the next free "nicK" when a section has that name. */
static void default_name(const struct vmconfig *cfg, unsigned index, char *out, size_t size)
{
	for (unsigned k = index;; k++) {
		snprintf(out, size, "nic%u", k);
		if (vc_find_section(cfg, "nic", out) < 0)
			return;
	}
}

int vc_check_nic(const struct vmconfig *cfg, size_t h, unsigned index, const char *label,
		 struct vmconfig_error *err)
{
	const struct vc_line *l = &cfg->lines[h];
	long model = vc_find_key(cfg, h, "model"), queues = vc_find_key(cfg, h, "queues");
	bool virtio = model >= 0 && strcasecmp(cfg->lines[model].value, "virtio") == 0;

	if (index >= VM_NICS_MAX) {
		vc_error(err, cfg->path, (unsigned)h + 1, vc_column(l->text, l->at),
			 "%s: network adapter %u, but a VM has at most %d; remove a [nic] section",
			 label, index + 1, VM_NICS_MAX);
		return -EINVAL;
	}
	if (l->name && strlen(l->name) >= VM_NIC_NAME_MAX) {
		vc_error(err, cfg->path, (unsigned)h + 1, vc_column(l->text, l->at),
			 "%s: an adapter's name has at most %d characters; shorten it", label,
			 VM_NIC_NAME_MAX - 1);
		return -EINVAL;
	}
	if (queues >= 0 && !virtio) {
		vc_error(err, cfg->path, (unsigned)queues + 1,
			 vc_column(cfg->lines[queues].text, cfg->lines[queues].at),
			 "%s: queues is used only with model = virtio; remove queues or add a line "
			 "model = virtio",
			 label);
		return -EINVAL;
	}
	return 0;
}

/* One adapter from the section at h. */
static int fill_nic(const struct vmconfig *cfg, size_t h, unsigned index, size_t dirlen,
		    struct nic_spec *n, struct vmconfig_error *err)
{
	const struct vc_line *l = &cfg->lines[h];
	long k;
	uint64_t u;
	bool b;

	memset(n, 0, sizeof(*n));
	if (l->name && l->name[0])
		snprintf(n->name, sizeof(n->name), "%s", l->name);
	else
		default_name(cfg, index, n->name, sizeof(n->name));
	if (cfg->path)
		snprintf(n->origin, sizeof(n->origin), "%s:%zu", cfg->path, h + 1);
	/* Values were checked when they were read or set. */
	k = vc_find_key(cfg, h, "model");
	n->model =
	    k >= 0 && strcasecmp(cfg->lines[k].value, "virtio") == 0 ? NIC_VIRTIO : NIC_E1000;
	k = vc_find_key(cfg, h, "mac");
	n->has_mac = k >= 0 && vmconfig_parse_mac(cfg->lines[k].value, n->mac, NULL, 0) == 0;
	k = vc_find_key(cfg, h, "switch");
	snprintf(n->switch_name, sizeof(n->switch_name), "%s",
		 k >= 0 ? cfg->lines[k].value : "default");
	n->connected = true;
	k = vc_find_key(cfg, h, "connected");
	if (k >= 0 && vmconfig_parse_bool(cfg->lines[k].value, &b, NULL, 0) == 0)
		n->connected = b;
	k = vc_find_key(cfg, h, "queues");
	if (k >= 0 &&
	    vmconfig_parse_uint(cfg->lines[k].value, 1, VM_NIC_QUEUES_MAX, &u, NULL, 0) == 0)
		n->queues = (unsigned)u;
	k = vc_find_key(cfg, h, "bootfile");
	if (k >= 0)
		snprintf(n->bootfile, sizeof(n->bootfile), "%s", cfg->lines[k].value);
	k = vc_find_key(cfg, h, "forward");
	if (k >= 0 && vmconfig_parse_forwards(cfg->lines[k].value, n->forward, &n->nforward, NULL,
					      NULL, 0) < 0)
		n->nforward = 0; /* cannot happen: checked */
	k = vc_find_key(cfg, h, "tftp");
	if (k >= 0) {
		const struct vc_line *t = &cfg->lines[k];
		size_t dl = t->value[0] == '/' ? 0 : dirlen;

		if (dl + strlen(t->value) >= sizeof(n->tftp)) {
			vc_error(err, cfg->path, (unsigned)k + 1, vc_column(t->text, t->value_at),
				 "tftp = '%.60s...': the path is too long; use a shorter one",
				 t->value);
			return -EINVAL;
		}
		snprintf(n->tftp, sizeof(n->tftp), "%.*s%s", (int)dl, cfg->path ? cfg->path : "",
			 t->value);
	}
	return 0;
}

int vc_fill_nics(const struct vmconfig *cfg, struct vm_spec *spec, size_t dirlen,
		 struct vmconfig_error *err)
{
	unsigned n = 0;
	int r;

	for (size_t h = 0; h < cfg->nlines; h++) {
		const struct vc_line *l = &cfg->lines[h];

		if (l->kind != VC_SECTION || strcmp(l->type, "nic") != 0)
			continue;
		if (n == VM_NICS_MAX) {
			vc_error(err, cfg->path, (unsigned)h + 1, 0, "too many [nic] sections");
			return -EINVAL; /* cannot happen: validated */
		}
		r = fill_nic(cfg, h, n, dirlen, &spec->nics[n], err);
		if (r)
			return r;
		n++;
	}
	if (n)
		spec->nnics = n;
	return 0;
}

/* Whether some [nic] of cfg has this MAC address. */
static bool mac_taken(const struct vmconfig *cfg, const uint8_t mac[6])
{
	for (size_t h = 0; h < cfg->nlines; h++) {
		const struct vc_line *l = &cfg->lines[h];
		uint8_t m[6];
		long k;

		if (l->kind != VC_SECTION || strcmp(l->type, "nic") != 0)
			continue;
		k = vc_find_key(cfg, h, "mac");
		if (k >= 0 && vmconfig_parse_mac(cfg->lines[k].value, m, NULL, 0) == 0 &&
		    memcmp(m, mac, 6) == 0)
			return true;
	}
	return false;
}

int vmconfig_add_macs(struct vmconfig *cfg, unsigned *added, char *list, size_t listlen,
		      struct vmconfig_error *err)
{
	size_t lo = 0;
	int r;

	*added = 0;
	if (list && listlen)
		list[0] = '\0';
	for (unsigned i = 0; i < vmconfig_count(cfg, "nic"); i++) {
		const char *name = vmconfig_section_name(cfg, "nic", i);
		char text[18], label[160];
		uint8_t mac[6];

		if (vmconfig_get(cfg, "nic", name, "mac"))
			continue;
		do
			net_mac_generate(mac);
		while (mac_taken(cfg, mac));
		net_mac_format(mac, text);
		vc_section_label("nic", name, label, sizeof(label));
		/* name stays valid: setting a key leaves the headers alone. */
		r = vmconfig_set(cfg, "nic", name, "mac", text, err);
		if (r)
			return r;
		if (list && lo < listlen)
			lo += (size_t)snprintf(list + lo, listlen - lo, "%s%s %s",
					       *added ? ", " : "", label, text);
		++*added;
	}
	return 0;
}
