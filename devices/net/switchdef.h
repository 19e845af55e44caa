/* Virtual switch definitions in the VM store (STORE/switches/NAME.json):
 * what `osio switch create|list|delete` manages and what a [nic]'s
 * `switch = NAME` names. "default" is the built-in NAT switch unless the
 * store defines it. */
#ifndef OSIO_SWITCHDEF_H
#define OSIO_SWITCHDEF_H

#include "devices/net/net.h"

#include <stddef.h>

/* Whether NAME is a valid switch name: 1-63 bytes of [A-Za-z0-9._-], not
 * starting with '.' or '-'. */
bool switchdef_name_ok(const char *name);
/* The switch called name: its kind and settings into cfg (defaults for
 * what the definition leaves out). -ENOENT with a message in err that says
 * how to create it ("osio switch create NAME --type private"), -EINVAL for
 * a damaged definition (naming the file). */
int switchdef_load(const char *name, struct net_switch_cfg *cfg, char *err, size_t errlen);
/* Writes a definition atomically (write, fsync, rename). -EEXIST when one
 * exists and !replace. */
int switchdef_save(const struct net_switch_cfg *cfg, bool replace, char *err, size_t errlen);
/* -ENOENT if none; -EPERM for the built-in "default" when not in the store. */
int switchdef_delete(const char *name, char *err, size_t errlen);
/* Calls fn for every switch, "default" first, then by name. */
int switchdef_foreach(int (*fn)(const struct net_switch_cfg *cfg, void *ctx), void *ctx, char *err,
		      size_t errlen);

#endif
