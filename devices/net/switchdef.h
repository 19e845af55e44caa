/* Virtual switch definitions in the VM store (STORE/switches/NAME.json):
 * what `osio switch create|list|delete` manages and what a [nic]'s
 * `switch = NAME` names. "default" is the built-in NAT switch unless the
 * store defines it. */
#ifndef OSIO_SWITCHDEF_H
#define OSIO_SWITCHDEF_H

#include "devices/net/net.h"

#include <stddef.h>

/* What the messages about a bad name, interface name or subnet tell the
 * user to write. */
#define SWITCHDEF_NAME_RULE                                                                        \
	"use 1-63 letters, digits, '.', '_' or '-', not starting with '.' or '-'"
#define SWITCHDEF_IFNAME_RULE "1-15 characters, no '/', ':' or spaces"
#define SWITCHDEF_SUBNET_RULE                                                                      \
	"write an IPv4 network with its prefix length (8-30) and no host bits, e.g. 10.0.2.0/24 "  \
	"or 192.168.100.0/24"
/* The longest notes (a description) a definition keeps, in bytes. */
#define SWITCHDEF_NOTES_MAX 1024

/* Whether NAME is a valid switch name: 1-63 bytes of [A-Za-z0-9._-], not
 * starting with '.' or '-'. */
bool switchdef_name_ok(const char *name);
/* Whether name is a Linux interface name: 1-15 bytes, not "." or "..", no
 * '/', ':', white space or control characters (the kernel's
 * dev_valid_name). */
bool switchdef_ifname_ok(const char *name);
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

/* The notes of name's stored definition into buf ("" when it has none);
 * whether the store holds a definition of it (false for the built-in
 * "default"). */
bool switchdef_notes(const char *name, char *buf, size_t size);
/* Sets the notes of a stored definition, "" removing them (switchdef_save
 * keeps those a definition has). -EINVAL for notes that are not UTF-8. */
int switchdef_set_notes(const char *name, const char *notes, char *err, size_t errlen);
/* Line breaks and tabs in text become spaces (notes on one line of a
 * table). */
void switchdef_one_line(char *text);
/* What the switch connects to, in a few words: a NAT switch's subnet
 * ("10.0.2.0/24", then " (host only)" when restricted), an internal one's
 * bridge_word and bridge, an external one's "BRIDGE + UPLINK" after
 * bridge_word, none for a private one. */
void switchdef_network(const struct net_switch_cfg *cfg, const char *bridge_word, const char *none,
		       char *buf, size_t size);

#endif
