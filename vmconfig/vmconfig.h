/* The vmconfig file format (one human-written text file per VM): parse and
 * validate it, edit values in place, write it back byte for byte. */
#ifndef OSIO_VMCONFIG_H
#define OSIO_VMCONFIG_H

#include "hypervisor/vmspec.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Files larger than this are refused: a vmconfig holds settings only. */
#define VMCONFIG_MAX_SIZE (1u << 20)
/* At most this many sections of one repeated type ([disk], [nic], ...). */
#define VMCONFIG_MAX_REPEAT 64
/* Longest Unix socket path (sun_path less its NUL). */
#define VMCONFIG_SOCKET_PATH_MAX 107

struct vmconfig; /* a parsed file: every line kept, in order */

struct vmconfig_error {
	char file[PATH_MAX];
	unsigned line, column; /* 1-based; 0 when the error has no place */
	char message[512];
};

/* "FILE:LINE:COL: error: MESSAGE" into buf; the parts that are empty or 0
 * are left out ("FILE: error: ...", "error: ..."). */
void vmconfig_error_format(const struct vmconfig_error *e, char *buf, size_t size);

/* An empty document; path (may be NULL) is where relative paths in it are
 * resolved from and where vmconfig_save(cfg, NULL) writes. NULL when out of
 * memory. */
struct vmconfig *vmconfig_new(const char *path);
/* Reads, parses and validates a file. NULL with err filled on failure. */
struct vmconfig *vmconfig_load(const char *path, struct vmconfig_error *err);
/* Parses and validates text (need not be NUL-terminated); path names the file
 * in messages and may be NULL. NULL with err filled on failure. */
struct vmconfig *vmconfig_parse(const char *text, size_t len, const char *path,
				struct vmconfig_error *err);
void vmconfig_free(struct vmconfig *cfg);

/* The path given to new/load/parse, or NULL. */
const char *vmconfig_path(const struct vmconfig *cfg);

/* The document as text (malloc'd, NUL-terminated, *len without the NUL when
 * len is not NULL): the very bytes that were parsed if nothing was edited.
 * NULL when out of memory. */
char *vmconfig_format(const struct vmconfig *cfg, size_t *len);
/* Atomic: temp file in the same directory, fsync, rename, fsync the
 * directory; the old file stays intact on any failure. path NULL: the path
 * the document was loaded from. A symbolic link is followed, so the link
 * stays and its target is replaced. Returns 0 or -errno. */
int vmconfig_save(const struct vmconfig *cfg, const char *path);

/* Lookup. section = "vm"; name = NULL (or "") for an unnamed section.
 * Returns the value (unquoted, unescaped) or NULL when the key is absent;
 * it stays valid until the document is next edited. */
const char *vmconfig_get(const struct vmconfig *cfg, const char *section, const char *name,
			 const char *key);
/* Sets a value, validating it against the schema (err filled, -EINVAL,
 * document untouched on a bad section, name, key or value). Existing key:
 * the value is replaced in place on its line, comment and indentation kept,
 * quoting added when needed (and kept when the old value was quoted). New
 * key: a line after the section's last key line. New section: appended at
 * the end of the file after a blank line. -ENOMEM when out of memory.
 * Rules between keys (a socket needs a path, ...) are checked by
 * vmconfig_validate, since a document passes through such states while it
 * is edited. */
int vmconfig_set(struct vmconfig *cfg, const char *section, const char *name, const char *key,
		 const char *value, struct vmconfig_error *err);
/* Removes a key's line. 0, or -ENOENT when the key is not set. */
int vmconfig_unset(struct vmconfig *cfg, const char *section, const char *name, const char *key);
/* Removes a section: its header, its lines, and the comment block directly
 * above the header (when a blank line separates it from what comes before).
 * A comment block directly above the next section stays with that section.
 * 0, or -ENOENT. */
int vmconfig_remove_section(struct vmconfig *cfg, const char *section, const char *name);
/* Sections of a type: how many, and the name of the i-th in file order
 * ("" for unnamed, NULL when i is out of range). */
unsigned vmconfig_count(const struct vmconfig *cfg, const char *section);
const char *vmconfig_section_name(const struct vmconfig *cfg, const char *section, unsigned i);
/* 1-based line of a key (or of the section header when key is NULL); 0 when
 * absent. For messages. */
unsigned vmconfig_line(const struct vmconfig *cfg, const char *section, const char *name,
		       const char *key);

/* Gives every [nic] without a mac a new address with osio's prefix
 * (net_mac_generate), none shared with another [nic], through
 * vmconfig_set (the file's layout kept). *added: how many; list (may be
 * NULL): "[nic \"lan\"] 52:4f:53:..., ..." for a message. 0, or the
 * error of vmconfig_set. */
int vmconfig_add_macs(struct vmconfig *cfg, unsigned *added, char *list, size_t listlen,
		      struct vmconfig_error *err);

/* The rules between keys and sections (also run by parse and to_spec): a
 * [disk] needs a file, socket and file serial backends need a path, a
 * kernel is booted without firmware, at most four IDE drives and one at
 * each position, ... 0, or -EINVAL with err naming the line. */
int vmconfig_validate(const struct vmconfig *cfg, struct vmconfig_error *err);

/* Fills spec from cfg, on top of what spec already holds (keys that are
 * absent leave their field alone; firmware stays FIRMWARE_AUTO unless set).
 * Relative paths are resolved against the directory of the vmconfig's path
 * (the current directory when it has none). A file with any IDE drive
 * ([disk] on bus = ide, [dvd]) sets all four spec->ide[] positions, placed
 * by the rule of osio-vmconfig(5); one without leaves them alone; [disk]
 * sections on bus = virtio fill spec's virtio disks in file order, [nic]
 * sections its adapters (likewise all of them when the file has any; an
 * adapter without mac has has_mac false). spec is left untouched on error.
 * 0 or -EINVAL (err filled), -ENOMEM. */
int vmconfig_to_spec(const struct vmconfig *cfg, struct vm_spec *spec, struct vmconfig_error *err);

/*
 * Value parsers, exported so that command-line options validate exactly
 * like the file. Each returns 0, or -EINVAL with a reason and its fix in
 * why ("not a size; write a number with a unit, e.g. 512M or 2G").
 */

/* A size with a unit: K, M, G, T, KiB..TiB, KB..TB (all powers of 1024),
 * any case, an optional fraction ("1.5G") that must come to whole bytes. */
int vmconfig_parse_size(const char *s, uint64_t *out, char *why, size_t whylen);
/* yes/no, true/false, on/off, 1/0, any case. */
int vmconfig_parse_bool(const char *s, bool *out, char *why, size_t whylen);
/* A decimal whole number in [min, max]. */
int vmconfig_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why,
			size_t whylen);
/* A boot order: one to three distinct devices of dvd, disk, network (any
 * case) separated by commas, e.g. "dvd, disk"; into order[0..*n). */
int vmconfig_parse_boot_order(const char *s, enum boot_device order[VM_BOOT_DEVICES], unsigned *n,
			      char *why, size_t whylen);
/* A unicast MAC address written as six hex pairs separated by ':'. */
int vmconfig_parse_mac(const char *s, uint8_t mac[6], char *why, size_t whylen);
/* Port forwards separated by commas, each as net_forward_parse reads it:
 * "tcp:127.0.0.1:2222 -> 22, udp::5555 -> 5555". The entries, trimmed, into
 * out[0..*n) (out and n may be NULL); *at (when not NULL) the offset of the
 * entry at fault. */
int vmconfig_parse_forwards(const char *s, char (*out)[VM_NIC_FORWARD_LEN], unsigned *n, size_t *at,
			    char *why, size_t whylen);
/* A UUID written 8-4-4-4-12 in hex (either case), into its 16 bytes in the
 * order written (RFC 4122 / big-endian fields). */
int vmconfig_parse_uuid(const char *s, uint8_t uuid[16], char *why, size_t whylen);
/* A VM, switch or section name: 1 to 63 letters, digits, '.', '_', '-',
 * starting with a letter or a digit. */
int vmconfig_check_name(const char *s, char *why, size_t whylen);

enum vmconfig_vnc_kind {
	VMCONFIG_VNC_NONE,
	VMCONFIG_VNC_AUTO,
	VMCONFIG_VNC_TCP,  /* host and port */
	VMCONFIG_VNC_UNIX, /* path */
};

struct vmconfig_vnc {
	enum vmconfig_vnc_kind kind;
	char host[256]; /* a name, an IPv4 address, or an IPv6 address without [] */
	unsigned port;
	char path[VMCONFIG_SOCKET_PATH_MAX + 1];
};

/* auto | none | HOST:PORT ([IPv6]:PORT) | an absolute Unix socket path. */
int vmconfig_parse_vnc(const char *s, struct vmconfig_vnc *out, char *why, size_t whylen);

/* Checks one value of a key as the file would (type, range, length) and
 * writes the whole message into msg: "memory = '2X': not a size; ...".
 * 0, -EINVAL, or -ENOENT for an unknown section or key. */
int vmconfig_check_value(const char *section, const char *key, const char *value, char *msg,
			 size_t msglen);

#endif
