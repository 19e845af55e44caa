/* smp: starts every application processor with INIT-SIPI-SIPI (Intel SDM
 * vol. 3, 9.4.4) through a real-mode trampoline below 1 MiB; each reports
 * its APIC id from the local APIC and from CPUID, and counts itself. */
#include "../lib/cmdline.h"
#include "../lib/idt.h"
#include "../lib/io.h"
#include "../lib/lapic.h"
#include "../lib/str.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"

#define TRAMP_ADDR    0x8000 /* SIPI vector 0x08 */
#define MAX_CPUS      16     /* as smp_tramp.S has stacks for */
#define AP_WAIT_MS    10000
#define EXTRA_WAIT_MS 300

struct cpu_report {
	u32 lapic, cpuid1, x2apic;
	bool leaf_b;
};

extern const u8 tramp_start[], tramp_end[];
void ap_main(u32 slot);

static struct cpu_report reports[MAX_CPUS];
static volatile u32 aps_arrived;

static void read_ids(struct cpu_report *r)
{
	struct cpuid_regs c = cpuid(1, 0);

	r->lapic = lapic_id();
	r->cpuid1 = c.ebx >> 24;
	r->leaf_b = false;
	if (cpuid(0, 0).eax >= 0xb) {
		c = cpuid(0xb, 0);
		/* EBX[15:0] = 0 means the leaf is not implemented. */
		if (c.ebx & 0xffff) {
			r->leaf_b = true;
			r->x2apic = c.edx;
		}
	}
}

void ap_main(u32 slot)
{
	idt_load();
	read_ids(&reports[slot]);
	__atomic_fetch_add(&aps_arrived, 1, __ATOMIC_SEQ_CST);
	halt_forever();
}

static bool start_aps(void)
{
	u32 dest = ICR_ALL_BUT_SELF | ICR_ASSERT;
	bool ok;

	ok = lapic_send_ipi(0, dest | ICR_INIT);
	delay_ms(10);
	ok = lapic_send_ipi(0, dest | ICR_STARTUP | (TRAMP_ADDR >> 12)) && ok;
	delay_ms(1);
	ok = lapic_send_ipi(0, dest | ICR_STARTUP | (TRAMP_ADDR >> 12)) && ok;
	return ok;
}

void test_main(void)
{
	u64 want = 0;
	u32 n, leaf_b = 0;
	bool ipis, distinct = true, dense = true;
	struct timeout t;

	printf("smp: INIT-SIPI-SIPI to all APs, trampoline at 0x%x\n", TRAMP_ADDR);
	if (!check(arg_u64("cpus", &want) && want >= 1 && want <= MAX_CPUS,
		   "cpus= argument is a number from 1 to %u", MAX_CPUS))
		return;

	memcpy((void *)TRAMP_ADDR, tramp_start, (size_t)(tramp_end - tramp_start));
	lapic_enable();
	read_ids(&reports[0]);
	ipis = start_aps();

	/* Wait for the APs asked for, then a little longer for any extra. */
	timeout_start(&t, AP_WAIT_MS);
	while (aps_arrived + 1 < want && !timeout_expired(&t))
		pause();
	delay_ms(EXTRA_WAIT_MS);
	n = aps_arrived + 1;
	if (n > MAX_CPUS)
		n = MAX_CPUS;

	/* Sort the reports by APIC id (insertion sort, n <= 16). */
	for (u32 i = 1; i < n; i++) {
		struct cpu_report r = reports[i];
		u32 j = i;

		while (j > 0 && reports[j - 1].lapic > r.lapic) {
			reports[j] = reports[j - 1];
			j--;
		}
		reports[j] = r;
	}
	printf("cpus up: %u\n", n);
	printf("APIC ids:");
	for (u32 i = 0; i < n; i++) {
		printf(" %u", reports[i].lapic);
		if (i > 0 && reports[i].lapic == reports[i - 1].lapic)
			distinct = false;
		if (reports[i].lapic != i)
			dense = false;
		leaf_b += reports[i].leaf_b;
	}
	printf("\n");

	check(ipis, "the INIT and SIPI IPIs were sent (ICR delivery status cleared)");
	check(n == want, "CPUs up: %u, cpus= asks for %u", n, (u32)want);
	check(distinct, "the APIC ids are distinct");
	check(dense, "the APIC ids are 0 to %u", n - 1);
	for (u32 i = 0; i < n; i++) {
		const struct cpu_report *r = &reports[i];

		check(r->lapic == r->cpuid1 && (!r->leaf_b || r->x2apic == r->lapic),
		      "APIC id %u: the local APIC's ID register and CPUID agree", r->lapic);
	}
	printf("peer: CPUID leaf 0xB (x2APIC id) present on %u of %u CPUs\n", leaf_b, n);
}
