/* Command line check: a NUL-terminated string within cmdline_size, echoed for the runner to
 * compare, and the words other checks use: mem=, initrd_size=, initrd_crc=, cpus=. */
#include "../common/number.h"
#include "guest.h"

struct arg {
	char key[32];
	char val[64];
	bool has_val, too_long;
};

/* Splits as Linux's next_arg(): words at spaces, double quotes group and are dropped. */
static const char *next_arg(const char *p, struct arg *a)
{
	size_t nk = 0, nv = 0;
	bool quoted = false;

	while (*p == ' ')
		p++;
	if (!*p)
		return NULL;
	a->has_val = a->too_long = false;
	for (; *p && (quoted || *p != ' '); p++) {
		if (*p == '"') {
			quoted = !quoted;
		} else if (!a->has_val && *p == '=') {
			a->has_val = true;
		} else if (!a->has_val) {
			if (nk < sizeof(a->key) - 1)
				a->key[nk++] = *p;
			else
				a->too_long = true;
		} else {
			if (nv < sizeof(a->val) - 1)
				a->val[nv++] = *p;
			else
				a->too_long = true;
		}
	}
	a->key[nk] = '\0';
	a->val[nv] = '\0';
	return p;
}

static void echo(const char *s, size_t len)
{
	console_puts("cmdline: \"");
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\\')
			console_puts("\\\\");
		else if (ch >= 0x20 && ch < 0x7f)
			kprintf("%c", ch);
		else
			kprintf("\\x%02x", ch);
	}
	console_puts("\"\n");
}

static void take(struct boot_ctx *c, const struct arg *a)
{
	uint64_t v = 0;

	if (!a->has_val)
		return;
	if (strncmp(a->key, "mem", sizeof(a->key)) == 0) {
		c->have_mem = !a->too_long && parse_size(a->val, &c->mem);
		if (!c->have_mem)
			fail("cmdline: mem=%s is not a size", a->val);
	} else if (strncmp(a->key, "initrd_size", sizeof(a->key)) == 0) {
		c->have_initrd_size = !a->too_long && parse_u64(a->val, &c->want_initrd_size);
		if (!c->have_initrd_size)
			fail("cmdline: initrd_size=%s is not a number", a->val);
	} else if (strncmp(a->key, "initrd_crc", sizeof(a->key)) == 0) {
		c->have_initrd_crc = !a->too_long && parse_u64(a->val, &v) && v <= UINT32_MAX;
		c->want_initrd_crc = (uint32_t)v;
		if (!c->have_initrd_crc)
			fail("cmdline: initrd_crc=%s is not a 32-bit number", a->val);
	} else if (strncmp(a->key, "cpus", sizeof(a->key)) == 0) {
		c->have_cpus = !a->too_long && parse_u64(a->val, &v) && v && v <= 4096;
		c->cpus = (unsigned)v;
		if (!c->have_cpus)
			fail("cmdline: cpus=%s is not a processor count", a->val);
	}
}

void check_cmdline(struct boot_ctx *c)
{
	const struct boot_params *bp = c->bp;
	uint64_t addr = bp->hdr.cmd_line_ptr | (uint64_t)bp->ext_cmd_line_ptr << 32;
	const char *s = (const char *)(uintptr_t)addr;
	size_t len = 0;
	struct arg a;

	if (!addr) {
		fail("cmdline: cmd_line_ptr is 0, but the runner passes a command line");
		return;
	}
	if (!mapped(addr, 1)) {
		fail("cmdline: cmd_line_ptr 0x%lx is outside the first 4 GiB", addr);
		return;
	}
	/* boot.rst: at most cmdline_size characters before the NUL. */
	while (len <= CMDLINE_SIZE && mapped(addr, len + 1) && s[len])
		len++;
	if (len > CMDLINE_SIZE || !mapped(addr, len + 1)) {
		fail("cmdline: no NUL within cmdline_size (%u) bytes of 0x%lx", CMDLINE_SIZE, addr);
		return;
	}
	c->cmdline_addr = addr;
	c->cmdline = s;
	c->cmdline_len = len;
	peer("cmdline: at 0x%lx, %zu bytes", addr, len);
	echo(s, len);
	for (const char *p = s; (p = next_arg(p, &a));)
		take(c, &a);
	if (!c->have_mem)
		fail("cmdline: no mem=<guest RAM size> (the runner passes it for the e820 check)");
	if (!c->have_initrd_size || !c->have_initrd_crc)
		fail("cmdline: no initrd_size= and initrd_crc= (the runner passes them)");
}
