/* What a vmconfig may hold: its sections, their keys, each key's type,
 * range and default. Read by the parser, the editor and the console. */
#ifndef OSIO_VMCONFIG_SCHEMA_H
#define OSIO_VMCONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vmconfig_type {
	VMCONFIG_T_SIZE,     /* a size with a unit: 512M, 2G */
	VMCONFIG_T_UINT,     /* a whole number in [min, max] */
	VMCONFIG_T_BOOL,     /* yes/no */
	VMCONFIG_T_ENUM,     /* one of choices */
	VMCONFIG_T_NAME,     /* letters, digits, . _ - */
	VMCONFIG_T_STRING,   /* free text (tabs and newlines allowed), up to maxlen bytes */
	VMCONFIG_T_PATH,     /* a file path, relative to the vmconfig's directory */
	VMCONFIG_T_MAC,	     /* a unicast MAC address */
	VMCONFIG_T_VNC,	     /* auto | none | HOST:PORT | /socket/path */
	VMCONFIG_T_LIST,     /* distinct choices separated by commas: dvd, disk */
	VMCONFIG_T_UUID,     /* 8-4-4-4-12 hex digits */
	VMCONFIG_T_FORWARDS, /* port forwards separated by commas: tcp:127.0.0.1:2222 -> 22 */
};

struct vmconfig_key_info {
	const char *key;
	enum vmconfig_type type;
	const char *def;	    /* the default as it would be written; NULL: none */
	bool required;		    /* the section is incomplete without it */
	bool allow_empty;	    /* "" is a meaningful value */
	const char *const *choices; /* VMCONFIG_T_ENUM, VMCONFIG_T_LIST: NULL-terminated */
	uint64_t min, max;	    /* VMCONFIG_T_SIZE, VMCONFIG_T_UINT */
	uint64_t align;		    /* VMCONFIG_T_SIZE: a multiple of this (0: any) */
	size_t maxlen;		    /* VMCONFIG_T_STRING, VMCONFIG_T_PATH: at most, in bytes */
	const char *help;	    /* one line, for the console */
};

enum vmconfig_naming {
	VMCONFIG_SINGLE,   /* [vm]: at most once, never named */
	VMCONFIG_REPEATED, /* [disk "name"]: told apart by name; one may go unnamed */
	VMCONFIG_PORTS,	   /* [serial "com1"]: the name is required, one of names */
};

struct vmconfig_section_info {
	const char *type;
	enum vmconfig_naming naming;
	const char *const *names; /* VMCONFIG_PORTS: NULL-terminated */
	const struct vmconfig_key_info *keys;
	unsigned nkeys;
	const char *help;
};

extern const struct vmconfig_section_info vmconfig_sections[];
extern const unsigned vmconfig_nsections;

/* NULL when unknown (names are case-sensitive). */
const struct vmconfig_section_info *vmconfig_schema_section(const char *type);
const struct vmconfig_key_info *vmconfig_schema_key(const struct vmconfig_section_info *s,
						    const char *key);

#endif
