/* SPDX-License-Identifier: MIT */
/* Unit tests of the scheduler core (src/core/sched.c and the place_*.c / order_*.c policies):
 * hand-built snapshots with known answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "corral/sched.h"

#define MIN_MS 60000

/* corral_kv holds char *; tests use literals: drop the const without a qualifier-cast warning. */
static char *S(const char *s)
{
    return (char *)(uintptr_t)s;
}
#define KV(k, v)                                                                                   \
    {                                                                                              \
        S(k), S(v)                                                                                 \
    }

/* A worker with free capacity: slots, cpu (thousandths), mem. */
#define WK(wid, nslots, cpu, mem)                                                                  \
    {                                                                                              \
        .id = (wid), .slots = (nslots), .cpu_milli = (cpu), .mem_mb = (mem), .weight = 1           \
    }
/* A task needing cpu (thousandths) and mem, submitted at sub. */
#define TK(tid, prio, sub, cpu, mem)                                                               \
    {                                                                                              \
        .id = (tid), .priority = (prio), .submitted_at_ms = (sub), .cpu_milli = (cpu),             \
        .mem_mb = (mem)                                                                            \
    }

static struct corral_sched_state *new_state(void)
{
    struct corral_sched_state *st = calloc(1, sizeof(*st));
    assert_non_null(st);
    return st;
}

static struct corral_policy policy(const char *placement, const char *order)
{
    struct corral_policy p = {corral_placement_find(placement), corral_order_find(order)};
    assert_non_null(p.placement);
    assert_non_null(p.order);
    return p;
}

/* Run one plan and return it; fails the test on error. */
static struct corral_plan plan_with(const struct corral_view *v, const char *placement,
                                    const char *order, struct corral_sched_state *st,
                                    int64_t now_ms, uint64_t seed)
{
    struct corral_policy p = policy(placement, order);
    struct corral_plan plan = {0};
    struct corral_error err = {0};
    int rc = corral_sched_plan(v, &p, st, now_ms, seed, &plan, &err);
    if (rc != 0)
        fail_msg("plan failed: %s", err.msg);
    return plan;
}

/* Worker index the plan gave task index ti, or -1. */
static int worker_of(const struct corral_plan *plan, size_t ti)
{
    for (size_t i = 0; i < plan->n_assign; i++) {
        if (plan->assign[i].task == ti)
            return (int)plan->assign[i].worker;
    }
    return -1;
}

/* Task ids in plan execution order, comma-separated. */
static void assigned_ids(const struct corral_view *v, const struct corral_plan *plan, char *buf,
                         size_t n)
{
    buf[0] = '\0';
    for (size_t i = 0; i < plan->n_assign; i++) {
        if (i)
            strncat(buf, ",", n - strlen(buf) - 1);
        strncat(buf, v->tasks[plan->assign[i].task].id, n - strlen(buf) - 1);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Eligibility                                                                                 */

static void fits_now_needs_free_slot_cpu_mem_and_equal_labels(void **state)
{
    (void)state;
    struct corral_kv labels[] = {KV("zone", "a"), KV("gpu", "1")};
    struct corral_worker_view w = WK("w1", 2, 4000, 1024);
    w.labels = labels;
    w.n_labels = 2;
    w.running = 1;
    w.used_cpu_milli = 3000;
    w.used_mem_mb = 512;
    struct corral_task_view t = TK("t", 0, 0, 1000, 512);
    assert_true(corral_sched_fits_now(&w, &t));
    t.cpu_milli = 1001;
    assert_false(corral_sched_fits_now(&w, &t));
    t.cpu_milli = 1000;
    t.mem_mb = 513;
    assert_false(corral_sched_fits_now(&w, &t));
    t.mem_mb = 0;
    struct corral_kv want_a[] = {KV("zone", "a")}, want_b[] = {KV("zone", "b")},
                     want_x[] = {KV("rack", "1")};
    t.constraints = want_a;
    t.n_constraints = 1;
    assert_true(corral_sched_fits_now(&w, &t));
    t.constraints = want_b;
    assert_false(corral_sched_fits_now(&w, &t));
    t.constraints = want_x;
    assert_false(corral_sched_fits_now(&w, &t));
    t.n_constraints = 0;
    w.running = 2;
    assert_false(corral_sched_fits_now(&w, &t));
}

static void fits_ever_ignores_current_usage(void **state)
{
    (void)state;
    struct corral_worker_view w = WK("w1", 1, 4000, 1024);
    w.running = 1;
    w.used_cpu_milli = 4000;
    w.used_mem_mb = 1024;
    struct corral_task_view t = TK("t", 0, 0, 4000, 1024);
    assert_false(corral_sched_fits_now(&w, &t));
    assert_true(corral_sched_fits_ever(&w, &t));
    t.cpu_milli = 4001;
    assert_false(corral_sched_fits_ever(&w, &t));
    w.slots = 0;
    t.cpu_milli = 0;
    assert_false(corral_sched_fits_ever(&w, &t));
}

/* ------------------------------------------------------------------------------------------ */
/* Placement policies                                                                          */

static void least_loaded_picks_lowest_load_after_placement(void **state)
{
    (void)state;
    /* w1: slots 1/10 but cpu 4/4 after -> load 1; w2: slots 6/10, cpu 1/8 -> load 0.6. */
    struct corral_worker_view ws[] = {WK("w1", 10, 4000, 0), WK("w2", 10, 8000, 0)};
    ws[0].used_cpu_milli = 3000;
    ws[1].running = 5;
    struct corral_task_view ts[] = {TK("t1", 0, 0, 1000, 0)};
    struct corral_view v = {ws, 2, ts, 1};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "fifo", st, 0, 1);
    assert_int_equal(p.n_assign, 1);
    assert_int_equal(worker_of(&p, 0), 1);
    corral_plan_cleanup(&p);
    free(st);
}

static void least_loaded_counts_memory_dimension(void **state)
{
    (void)state;
    struct corral_worker_view ws[] = {WK("w1", 4, 4000, 1000), WK("w2", 4, 4000, 1000)};
    ws[0].used_mem_mb = 900; /* w1 after: mem 1000/1000 */
    ws[1].running = 2;       /* w2 after: slots 3/4 */
    struct corral_task_view ts[] = {TK("t1", 0, 0, 0, 100)};
    struct corral_view v = {ws, 2, ts, 1};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "fifo", st, 0, 1);
    assert_int_equal(worker_of(&p, 0), 1);
    corral_plan_cleanup(&p);
    free(st);
}

static void least_loaded_spreads_equal_workers_within_a_plan(void **state)
{
    (void)state;
    struct corral_worker_view ws[] = {WK("a", 4, 4000, 0), WK("b", 4, 4000, 0),
                                      WK("c", 4, 4000, 0)};
    struct corral_task_view ts[] = {TK("t1", 0, 1, 1000, 0), TK("t2", 0, 2, 1000, 0),
                                    TK("t3", 0, 3, 1000, 0), TK("t4", 0, 4, 1000, 0)};
    struct corral_view v = {ws, 3, ts, 4};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "fifo", st, 0, 1);
    /* Equal workers: spread a, b, c, then a again (all tied at 1/4 load). */
    assert_int_equal(p.n_assign, 4);
    assert_int_equal(worker_of(&p, 0), 0);
    assert_int_equal(worker_of(&p, 1), 1);
    assert_int_equal(worker_of(&p, 2), 2);
    assert_int_equal(worker_of(&p, 3), 0);
    corral_plan_cleanup(&p);
    free(st);
}

/* Plan one single-task round per call on an idle cluster, as the leader does when each task
 * finishes before the next arrives; the policy state is carried from round to round. Writes the
 * chosen worker of each round into picks. */
static void single_task_rounds(const char *placement, struct corral_worker_view *ws, size_t nw,
                               int rounds, int *picks)
{
    struct corral_sched_state *st = new_state();
    for (int r = 0; r < rounds; r++) {
        struct corral_task_view t = TK("t", 0, r, 1000, 0);
        struct corral_view v = {ws, nw, &t, 1};
        struct corral_plan p = plan_with(&v, placement, "fifo", st, r, (uint64_t)r);
        assert_int_equal(p.n_assign, 1);
        picks[r] = worker_of(&p, 0);
        corral_plan_cleanup(&p);
    }
    free(st);
}

static void least_loaded_spreads_single_tasks_over_idle_equal_workers_across_rounds(void **state)
{
    (void)state;
    struct corral_worker_view ws[] = {WK("a", 4, 4000, 0), WK("b", 4, 4000, 0),
                                      WK("c", 4, 4000, 0)};
    int picks[6];
    single_task_rounds("least-loaded", ws, 3, 6, picks);
    /* Every worker gets its share, in id order, rotating (ties by view order gave a, a, a...). */
    static const int want[] = {0, 1, 2, 0, 1, 2};
    for (int r = 0; r < 6; r++)
        assert_int_equal(picks[r], want[r]);
}

static void least_loaded_tie_rotation_follows_ids_not_view_order(void **state)
{
    (void)state;
    /* The view is not sorted by id: the rotation still goes a, b, c by id. */
    struct corral_worker_view ws[] = {WK("c", 4, 4000, 0), WK("a", 4, 4000, 0),
                                      WK("b", 4, 4000, 0)};
    int picks[4];
    single_task_rounds("least-loaded", ws, 3, 4, picks);
    assert_int_equal(picks[0], 1);
    assert_int_equal(picks[1], 2);
    assert_int_equal(picks[2], 0);
    assert_int_equal(picks[3], 1);
    /* A worker that left: the cursor moves on to the next id after it. */
    struct corral_sched_state *st = new_state();
    strcpy(st->ll_last, "b");
    struct corral_worker_view two[] = {WK("a", 4, 4000, 0), WK("c", 4, 4000, 0)};
    struct corral_task_view t = TK("t", 0, 0, 1000, 0);
    struct corral_view v = {two, 2, &t, 1};
    struct corral_plan p = plan_with(&v, "least-loaded", "fifo", st, 0, 1);
    assert_int_equal(worker_of(&p, 0), 1);
    assert_string_equal(st->ll_last, "c");
    corral_plan_cleanup(&p);
    free(st);
}

static void least_loaded_rotation_never_beats_a_lower_load(void **state)
{
    (void)state;
    /* b is busier, so it is skipped even when the rotation would come to it; a and c share. */
    struct corral_worker_view ws[] = {WK("a", 4, 4000, 0), WK("b", 4, 4000, 0),
                                      WK("c", 4, 4000, 0)};
    ws[1].running = 1;
    ws[1].used_cpu_milli = 1000;
    int picks[4];
    single_task_rounds("least-loaded", ws, 3, 4, picks);
    assert_int_equal(picks[0], 0);
    assert_int_equal(picks[1], 2);
    assert_int_equal(picks[2], 0);
    assert_int_equal(picks[3], 2);
}

static void bin_pack_keeps_packing_single_tasks_across_rounds(void **state)
{
    (void)state;
    struct corral_worker_view ws[] = {WK("a", 4, 4000, 0), WK("b", 4, 4000, 0),
                                      WK("c", 4, 4000, 0)};
    int picks[4];
    single_task_rounds("bin-pack", ws, 3, 4, picks);
    for (int r = 0; r < 4; r++)
        assert_int_equal(picks[r], 0); /* ties stay on the earliest worker: it fills first */
    /* And within a plan it fills one worker before the next. */
    struct corral_task_view ts[] = {TK("t1", 0, 1, 1000, 0), TK("t2", 0, 2, 1000, 0),
                                    TK("t3", 0, 3, 1000, 0), TK("t4", 0, 4, 1000, 0),
                                    TK("t5", 0, 5, 1000, 0)};
    struct corral_view v = {ws, 3, ts, 5};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "bin-pack", "fifo", st, 0, 1);
    assert_int_equal(p.n_assign, 5);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(worker_of(&p, i), 0);
    assert_int_equal(worker_of(&p, 4), 1);
    corral_plan_cleanup(&p);
    free(st);
}

static void least_loaded_compares_loads_exactly(void **state)
{
    (void)state;
    /* 2/3 vs 666666667/1000000000: a float rounding could call them equal; w2 is higher. */
    struct corral_worker_view ws[] = {WK("w1", 3, 0, 3), WK("w2", 1000, 0, 1000000000)};
    ws[0].running = 1;
    ws[0].used_mem_mb = 1;
    ws[1].used_mem_mb = 666666666;
    struct corral_task_view ts[] = {TK("t1", 0, 0, 0, 1)};
    struct corral_view v = {ws, 2, ts, 1};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "fifo", st, 0, 1);
    assert_int_equal(worker_of(&p, 0), 0);
    corral_plan_cleanup(&p);
    p = plan_with(&v, "bin-pack", "fifo", st, 0, 1);
    assert_int_equal(worker_of(&p, 0), 1);
    corral_plan_cleanup(&p);
    free(st);
}

static void placement_skips_full_workers(void **state)
{
    (void)state;
    struct corral_worker_view ws[] = {WK("a", 1, 4000, 0), WK("b", 4, 4000, 0)};
    ws[0].running = 1;
    struct corral_task_view ts[] = {TK("t1", 0, 0, 1000, 0)};
    struct corral_view v = {ws, 2, ts, 1};
    static const char *const all[] = {"least-loaded", "round-robin", "random", "weighted",
                                      "bin-pack"};
    for (size_t i = 0; i < 5; i++) {
        struct corral_sched_state *st = new_state();
        struct corral_plan p = plan_with(&v, all[i], "fifo", st, 0, 7);
        assert_int_equal(p.n_assign, 1);
        assert_int_equal(worker_of(&p, 0), 1);
        corral_plan_cleanup(&p);
        free(st);
    }
}

static void placement_respects_label_constraints(void **state)
{
    (void)state;
    struct corral_kv la[] = {KV("zone", "a")}, lb[] = {KV("zone", "b")};
    struct corral_worker_view ws[] = {WK("a", 4, 4000, 0), WK("b", 4, 4000, 0)};
    ws[0].labels = la;
    ws[0].n_labels = 1;
    ws[1].labels = lb;
    ws[1].n_labels = 1;
    struct corral_task_view ts[] = {TK("t1", 0, 0, 1000, 0)};
    ts[0].constraints = lb;
    ts[0].n_constraints = 1;
    struct corral_view v = {ws, 2, ts, 1};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "fifo", st, 0, 1);
    assert_int_equal(worker_of(&p, 0), 1);
    corral_plan_cleanup(&p);
    free(st);
}

static void bin_pack_picks_fullest_worker_ties_earliest(void **state)
{
    (void)state;
    struct corral_worker_view ws[] = {WK("a", 4, 4000, 0), WK("b", 4, 4000, 0),
                                      WK("c", 4, 4000, 0)};
    ws[1].running = 2;
    ws[1].used_cpu_milli = 2000;
    struct corral_task_view ts[] = {TK("t1", 0, 1, 1000, 0), TK("t2", 0, 2, 1000, 0),
                                    TK("t3", 0, 3, 1000, 0)};
    struct corral_view v = {ws, 3, ts, 3};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "bin-pack", "fifo", st, 0, 1);
    /* b fills up first (2 more), then the tie between idle a and c goes to a. */
    assert_int_equal(worker_of(&p, 0), 1);
    assert_int_equal(worker_of(&p, 1), 1);
    assert_int_equal(worker_of(&p, 2), 0);
    corral_plan_cleanup(&p);
    free(st);
}

static void round_robin_cycles_in_id_order_across_plans(void **state)
{
    (void)state;
    struct corral_worker_view ws[] = {WK("a", 10, 0, 0), WK("b", 10, 0, 0), WK("c", 10, 0, 0)};
    struct corral_task_view ts[] = {TK("t1", 0, 1, 0, 0), TK("t2", 0, 2, 0, 0),
                                    TK("t3", 0, 3, 0, 0), TK("t4", 0, 4, 0, 0)};
    struct corral_view v = {ws, 3, ts, 4};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "round-robin", "fifo", st, 0, 1);
    assert_int_equal(worker_of(&p, 0), 0);
    assert_int_equal(worker_of(&p, 1), 1);
    assert_int_equal(worker_of(&p, 2), 2);
    assert_int_equal(worker_of(&p, 3), 0);
    assert_string_equal(st->rr_last, "a");
    corral_plan_cleanup(&p);
    /* The cursor persists: the next tick continues with b. */
    v.n_tasks = 1;
    p = plan_with(&v, "round-robin", "fifo", st, 0, 1);
    assert_int_equal(worker_of(&p, 0), 1);
    corral_plan_cleanup(&p);
    free(st);
}

static void round_robin_skips_full_worker(void **state)
{
    (void)state;
    struct corral_worker_view ws[] = {WK("a", 10, 0, 0), WK("b", 1, 0, 0), WK("c", 10, 0, 0)};
    ws[1].running = 1;
    struct corral_task_view ts[] = {TK("t1", 0, 1, 0, 0), TK("t2", 0, 2, 0, 0),
                                    TK("t3", 0, 3, 0, 0), TK("t4", 0, 4, 0, 0)};
    struct corral_view v = {ws, 3, ts, 4};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "round-robin", "fifo", st, 0, 1);
    assert_int_equal(worker_of(&p, 0), 0);
    assert_int_equal(worker_of(&p, 1), 2);
    assert_int_equal(worker_of(&p, 2), 0);
    assert_int_equal(worker_of(&p, 3), 2);
    corral_plan_cleanup(&p);
    free(st);
}

static void round_robin_survives_departed_last_worker(void **state)
{
    (void)state;
    struct corral_worker_view ws[] = {WK("a", 10, 0, 0), WK("c", 10, 0, 0)};
    struct corral_task_view ts[] = {TK("t1", 0, 1, 0, 0)};
    struct corral_view v = {ws, 2, ts, 1};
    struct corral_sched_state *st = new_state();
    strcpy(st->rr_last, "b"); /* b left the cluster since the last tick */
    struct corral_plan p = plan_with(&v, "round-robin", "fifo", st, 0, 1);
    assert_int_equal(worker_of(&p, 0), 1);
    corral_plan_cleanup(&p);
    free(st);
}

static void random_is_reproducible_for_same_seed_and_covers_all_eligible(void **state)
{
    (void)state;
    enum { NT = 300 };
    struct corral_worker_view ws[] = {WK("a", 1000, 0, 0), WK("b", 1, 0, 0), WK("c", 1000, 0, 0),
                                      WK("d", 1000, 0, 0)};
    ws[1].running = 1; /* b is full: never picked */
    struct corral_task_view *ts = calloc(NT, sizeof(*ts));
    char(*ids)[8] = calloc(NT, 8);
    assert_non_null(ts);
    assert_non_null(ids);
    for (int i = 0; i < NT; i++) {
        snprintf(ids[i], 8, "t%03d", i);
        ts[i].id = ids[i];
        ts[i].submitted_at_ms = i;
    }
    struct corral_view v = {ws, 4, ts, NT};
    struct corral_sched_state *st = new_state();
    struct corral_plan p1 = plan_with(&v, "random", "fifo", st, 0, 42);
    struct corral_plan p2 = plan_with(&v, "random", "fifo", st, 0, 42);
    struct corral_plan p3 = plan_with(&v, "random", "fifo", st, 0, 43);
    assert_int_equal(p1.n_assign, NT);
    assert_memory_equal(p1.assign, p2.assign, NT * sizeof(*p1.assign));
    assert_memory_not_equal(p1.assign, p3.assign, NT * sizeof(*p1.assign));
    size_t count[4] = {0};
    for (size_t i = 0; i < p1.n_assign; i++)
        count[p1.assign[i].worker]++;
    assert_int_equal(count[1], 0);
    assert_true(count[0] > 50 && count[2] > 50 && count[3] > 50);
    corral_plan_cleanup(&p1);
    corral_plan_cleanup(&p2);
    corral_plan_cleanup(&p3);
    free(st);
    free(ts);
    free(ids);
}

static void weighted_split_is_exact_over_100_picks(void **state)
{
    (void)state;
    enum { NT = 100 };
    struct corral_worker_view ws[] = {WK("a", 1000, 0, 0), WK("b", 1000, 0, 0)};
    ws[0].weight = 3;
    ws[1].weight = 1;
    struct corral_task_view *ts = calloc(NT, sizeof(*ts));
    char(*ids)[8] = calloc(NT, 8);
    assert_non_null(ts);
    assert_non_null(ids);
    for (int i = 0; i < NT; i++) {
        snprintf(ids[i], 8, "t%03d", i);
        ts[i].id = ids[i];
        ts[i].submitted_at_ms = i;
    }
    /* All 100 in one tick. */
    struct corral_view v = {ws, 2, ts, NT};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "weighted", "fifo", st, 0, 1);
    size_t count[2] = {0};
    for (size_t i = 0; i < p.n_assign; i++)
        count[p.assign[i].worker]++;
    assert_int_equal(count[0], 75);
    assert_int_equal(count[1], 25);
    corral_plan_cleanup(&p);
    free(st);

    /* One per tick for 100 ticks: the state carries the split. */
    st = new_state();
    v.n_tasks = 1;
    count[0] = count[1] = 0;
    for (int i = 0; i < NT; i++) {
        p = plan_with(&v, "weighted", "fifo", st, 0, 1);
        count[p.assign[0].worker]++;
        corral_plan_cleanup(&p);
    }
    assert_int_equal(count[0], 75);
    assert_int_equal(count[1], 25);
    free(st);
    free(ts);
    free(ids);
}

static void weighted_interleaves_smoothly(void **state)
{
    (void)state;
    struct corral_worker_view ws[] = {WK("a", 100, 0, 0), WK("b", 100, 0, 0)};
    ws[0].weight = 3;
    struct corral_task_view ts[] = {
        TK("t1", 0, 1, 0, 0), TK("t2", 0, 2, 0, 0), TK("t3", 0, 3, 0, 0), TK("t4", 0, 4, 0, 0),
        TK("t5", 0, 5, 0, 0), TK("t6", 0, 6, 0, 0), TK("t7", 0, 7, 0, 0), TK("t8", 0, 8, 0, 0)};
    struct corral_view v = {ws, 2, ts, 8};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "weighted", "fifo", st, 0, 1);
    static const int want[] = {0, 0, 1, 0, 0, 0, 1, 0}; /* a a b a, repeated */
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(worker_of(&p, i), want[i]);
    corral_plan_cleanup(&p);
    free(st);
}

static void weighted_state_survives_workers_joining(void **state)
{
    (void)state;
    /* c joins after 4 picks; from then on 2:1:1 over each run of 4 picks. */
    struct corral_worker_view ws[] = {WK("b", 1000, 0, 0), WK("d", 1000, 0, 0),
                                      WK("c", 1000, 0, 0)};
    ws[0].weight = 2;
    struct corral_task_view ts[] = {TK("t1", 0, 1, 0, 0), TK("t2", 0, 2, 0, 0),
                                    TK("t3", 0, 3, 0, 0), TK("t4", 0, 4, 0, 0)};
    struct corral_view v = {ws, 2, ts, 3};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "weighted", "fifo", st, 0, 1);
    size_t count[3] = {0};
    for (size_t i = 0; i < p.n_assign; i++)
        count[p.assign[i].worker]++;
    assert_int_equal(count[0], 2);
    assert_int_equal(count[1], 1);
    corral_plan_cleanup(&p);
    v.n_workers = 3;
    v.n_tasks = 4;
    count[0] = count[1] = count[2] = 0;
    for (int tick = 0; tick < 25; tick++) {
        p = plan_with(&v, "weighted", "fifo", st, 0, 1);
        for (size_t i = 0; i < p.n_assign; i++)
            count[p.assign[i].worker]++;
        corral_plan_cleanup(&p);
    }
    /* Joining mid-way shifts the split by at most one pick per worker. */
    assert_int_equal(count[0] + count[1] + count[2], 100);
    assert_true(count[0] >= 49 && count[0] <= 51);
    assert_true(count[1] >= 24 && count[1] <= 26);
    assert_true(count[2] >= 24 && count[2] <= 26);
    assert_int_equal(st->n_swrr, 3);
    assert_string_equal(st->swrr[0].id, "b"); /* kept sorted by id */
    assert_string_equal(st->swrr[1].id, "c");
    assert_string_equal(st->swrr[2].id, "d");
    free(st);
}

/* ------------------------------------------------------------------------------------------ */
/* Orders                                                                                      */

static void fifo_orders_by_submission_then_id(void **state)
{
    (void)state;
    struct corral_worker_view ws[] = {WK("w", 10, 0, 0)};
    struct corral_task_view ts[] = {TK("c", 5, 200, 0, 0), TK("b", 0, 100, 0, 0),
                                    TK("a", 0, 100, 0, 0), TK("d", 9, 300, 0, 0)};
    struct corral_view v = {ws, 1, ts, 4};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "fifo", st, 1000, 1);
    char ids[64];
    assigned_ids(&v, &p, ids, sizeof ids);
    assert_string_equal(ids, "a,b,c,d");
    corral_plan_cleanup(&p);
    free(st);
}

static void priority_orders_by_priority_then_fifo(void **state)
{
    (void)state;
    struct corral_worker_view ws[] = {WK("w", 10, 0, 0)};
    struct corral_task_view ts[] = {TK("low", -5, 100, 0, 0), TK("hi2", 10, 300, 0, 0),
                                    TK("mid", 0, 50, 0, 0), TK("hi1", 10, 200, 0, 0)};
    struct corral_view v = {ws, 1, ts, 4};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "priority", st, 1000, 1);
    char ids[64];
    assigned_ids(&v, &p, ids, sizeof ids);
    assert_string_equal(ids, "hi1,hi2,mid,low");
    corral_plan_cleanup(&p);
    free(st);
}

static void priority_aging_lifts_starved_task_after_enough_minutes(void **state)
{
    (void)state;
    const struct corral_order *o = corral_order_find("priority");
    assert_non_null(o);
    int64_t now = 100 * (int64_t)MIN_MS;
    struct corral_task_view old = TK("old", 0, now - 10 * MIN_MS, 0, 0);
    struct corral_task_view fresh = TK("fresh", 10, now, 0, 0);
    /* 10 minutes waited = +10: tied with the fresh priority-10 task, FIFO lets old go first. */
    assert_true(o->compare(&old, &fresh, now) < 0);
    assert_true(o->compare(&fresh, &old, now) > 0);
    /* 9 minutes 59 s waited is only +9. */
    old.submitted_at_ms = now - 10 * MIN_MS + 1000;
    assert_true(o->compare(&old, &fresh, now) > 0);
    /* 11 minutes beats priority 10 outright even against an older rival. */
    old.submitted_at_ms = now - 11 * MIN_MS;
    fresh.submitted_at_ms = now - 30000;
    assert_true(o->compare(&old, &fresh, now) < 0);
}

static void priority_aging_ignores_future_submission_times(void **state)
{
    (void)state;
    const struct corral_order *o = corral_order_find("priority");
    struct corral_task_view skewed = TK("a", 0, 10 * MIN_MS, 0, 0); /* clock skew */
    struct corral_task_view other = TK("b", 1, 0, 0, 0);
    assert_true(o->compare(&other, &skewed, 0) < 0);
}

static void sjf_orders_shortest_first_missing_estimates_last(void **state)
{
    (void)state;
    struct corral_worker_view ws[] = {WK("w", 10, 0, 0)};
    struct corral_task_view ts[] = {TK("none1", 0, 0, 0, 0), TK("long", 0, 0, 0, 0),
                                    TK("short", 0, 0, 0, 0), TK("none0", 0, 0, 0, 0),
                                    TK("huge", 0, 0, 0, 0)};
    ts[1].has_estimated = true;
    ts[1].estimated_ms = 60000;
    ts[2].has_estimated = true;
    ts[2].estimated_ms = 100;
    ts[4].has_estimated = true;
    ts[4].estimated_ms = UINT64_MAX; /* still before tasks without an estimate */
    struct corral_view v = {ws, 1, ts, 5};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "sjf", st, 0, 1);
    char ids[64];
    assigned_ids(&v, &p, ids, sizeof ids);
    assert_string_equal(ids, "short,long,huge,none0,none1");
    corral_plan_cleanup(&p);
    free(st);
}

static void sjf_response_ratio_lets_long_job_pass_eventually(void **state)
{
    (void)state;
    const struct corral_order *o = corral_order_find("sjf");
    assert_non_null(o);
    int64_t now = 10 * 3600 * 1000LL;
    struct corral_task_view lng = TK("long", 0, now - 3600 * 1000LL, 0, 0);
    lng.has_estimated = true;
    lng.estimated_ms = 3600 * 1000; /* 1 h job, waited 1 h: ratio 2 */
    struct corral_task_view shrt = TK("short", 0, now, 0, 0);
    shrt.has_estimated = true;
    shrt.estimated_ms = 1000; /* 1 s job, just submitted: ratio 1 */
    assert_true(o->compare(&lng, &shrt, now) < 0);
    /* The short job waited 1 s: ratio 2 as well; equal ratios go shortest first. */
    shrt.submitted_at_ms = now - 1000;
    assert_true(o->compare(&lng, &shrt, now) > 0);
    assert_true(o->compare(&shrt, &lng, now) < 0);
    /* One more ms of waiting puts the long job ahead. */
    lng.submitted_at_ms -= 1;
    assert_true(o->compare(&lng, &shrt, now) < 0);
}

/* The ids of the tasks in the order sjf plans them at now_ms (one worker with room for all). */
static void sjf_plan_order(struct corral_task_view *ts, size_t n, int64_t now_ms, char *ids,
                           size_t ids_len)
{
    struct corral_worker_view ws[] = {WK("w", 100, 0, 0)};
    struct corral_view v = {ws, 1, ts, n};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "sjf", st, now_ms, 1);
    assert_int_equal(p.n_assign, n);
    assigned_ids(&v, &p, ids, ids_len);
    corral_plan_cleanup(&p);
    free(st);
}

#define EST(t, ms)                                                                                 \
    do {                                                                                           \
        (t).has_estimated = true;                                                                  \
        (t).estimated_ms = (ms);                                                                   \
    } while (0)

static void sjf_queue_submitted_over_5s_runs_short_jobs_first(void **state)
{
    (void)state;
    /* Submitted one per second over 5 s, the longest first; planned at 5 s. The old aging
     * (estimate minus ms waited) ran them e2000, e1000, e500, e100, e5000. */
    struct corral_task_view ts[] = {TK("e5000", 0, 0, 0, 0), TK("e2000", 0, 1000, 0, 0),
                                    TK("e1000", 0, 2000, 0, 0), TK("e500", 0, 3000, 0, 0),
                                    TK("e100", 0, 4000, 0, 0)};
    EST(ts[0], 5000); /* waited 5 s: ratio 2 */
    EST(ts[1], 2000); /* waited 4 s: ratio 3 */
    EST(ts[2], 1000); /* waited 3 s: ratio 4 */
    EST(ts[3], 500);  /* waited 2 s: ratio 5 */
    EST(ts[4], 100);  /* waited 1 s: ratio 11 */
    char ids[128];
    sjf_plan_order(ts, 5, 5000, ids, sizeof ids);
    assert_string_equal(ids, "e100,e500,e1000,e2000,e5000");

    /* Estimates closer together than the arrival gaps: the old aging ran them in FIFO order. */
    struct corral_task_view close[] = {TK("e900", 0, 0, 0, 0), TK("e700", 0, 1000, 0, 0),
                                       TK("e500", 0, 2000, 0, 0), TK("e300", 0, 3000, 0, 0),
                                       TK("e100", 0, 4000, 0, 0)};
    for (size_t i = 0; i < 5; i++)
        EST(close[i], 900 - 200 * i);
    sjf_plan_order(close, 5, 5000, ids, sizeof ids);
    assert_string_equal(ids, "e100,e300,e500,e700,e900");
}

static void sjf_long_job_wins_after_waiting_long_enough_behind_a_stream(void **state)
{
    (void)state;
    /* One slot frees every 100 ms; each round a new 100 ms job arrives and the previous ones
     * have run. A 5 s job queued at 0 competes with the newest short job, which has waited
     * 100 ms (ratio 2). The long job's ratio 1 + waited/5000 passes 2 after 5 s: the short jobs
     * go first until then, and the long one does not starve. */
    struct corral_worker_view ws[] = {WK("w", 1, 0, 0)};
    struct corral_sched_state *st = new_state();
    int64_t won_at = -1;
    for (int64_t now = 100; now <= 10000 && won_at < 0; now += 100) {
        struct corral_task_view ts[] = {TK("long", 0, 0, 0, 0), TK("short", 0, now - 100, 0, 0)};
        EST(ts[0], 5000);
        EST(ts[1], 100);
        struct corral_view v = {ws, 1, ts, 2};
        struct corral_plan p = plan_with(&v, "least-loaded", "sjf", st, now, 1);
        assert_int_equal(p.n_assign, 1);
        if (p.assign[0].task == 0)
            won_at = now;
        corral_plan_cleanup(&p);
    }
    free(st);
    /* At 5.0 s the ratios tie (2 = 2) and the 100 ms job goes first; at 5.1 s the long job.
     * (The old aging tied at 5.0 s too but broke the tie FIFO: 5000.) */
    assert_int_equal(won_at, 5100);
}

static void sjf_without_estimate_ranks_as_longest_and_still_ages(void **state)
{
    (void)state;
    const struct corral_order *o = corral_order_find("sjf");
    int64_t week = 7 * 24 * 3600 * 1000LL;
    int64_t now = 4 * week;
    /* Same wait: after a task with any estimate, even one capped at 7 days. */
    struct corral_task_view none = TK("a-none", 0, now - 1000, 0, 0);
    struct corral_task_view capped = TK("b-capped", 0, now - 1000, 0, 0);
    EST(capped, UINT64_MAX);
    assert_true(o->compare(&capped, &none, now) < 0);
    /* Waiting twice as long as a 7-day job puts it ahead of that job. */
    none.submitted_at_ms = now - 2002;
    assert_true(o->compare(&none, &capped, now) < 0);
    /* It passes a short job once its waited / (7 days + 1 ms) is larger: a 1 s job that waited
     * 1 s has ratio 2, so after 7 days + 1 ms of waiting they tie, 1 ms later it goes first. */
    struct corral_task_view shrt = TK("c-short", 0, now - 1000, 0, 0);
    EST(shrt, 1000);
    none.submitted_at_ms = now - (week + 1);
    assert_true(o->compare(&shrt, &none, now) < 0);
    none.submitted_at_ms = now - (week + 2);
    assert_true(o->compare(&none, &shrt, now) < 0);
    /* An estimate of 0 ranks as 1 ms: no division by zero, ahead of longer ones. */
    struct corral_task_view zero = TK("d-zero", 0, now, 0, 0);
    EST(zero, 0);
    struct corral_task_view one = TK("e-one", 0, now, 0, 0);
    EST(one, 1);
    assert_true(o->compare(&zero, &one, now) < 0); /* tie: FIFO (id) */
    assert_true(o->compare(&one, &zero, now) > 0);
    zero.submitted_at_ms = now - 1;
    assert_true(o->compare(&zero, &shrt, now) < 0); /* ratio 2 vs 2, shorter first */
}

static void orders_are_total_with_id_tie_break(void **state)
{
    (void)state;
    static const char *const names[] = {"priority", "fifo", "sjf"};
    struct corral_task_view a = TK("a", 0, 5, 0, 0), b = TK("b", 0, 5, 0, 0);
    for (size_t i = 0; i < 3; i++) {
        const struct corral_order *o = corral_order_find(names[i]);
        assert_true(o->compare(&a, &b, 10) < 0);
        assert_true(o->compare(&b, &a, 10) > 0);
        assert_int_equal(o->compare(&a, &a, 10), 0);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Planning                                                                                    */

static void unschedulable_reasons_name_the_missing_resource(void **state)
{
    (void)state;
    struct corral_kv la[] = {KV("zone", "b")}, want[] = {KV("zone", "a")};
    struct corral_worker_view ws[] = {WK("w1", 4, 16000, 4096), WK("w2", 4, 8000, 2048)};
    ws[0].labels = la;
    ws[0].n_labels = 1;
    struct corral_task_view ts[] = {TK("cpu", 0, 1, 64000, 0), TK("mem", 0, 2, 1000, 9000),
                                    TK("lbl", 0, 3, 1000, 0), TK("half", 0, 4, 500, 0),
                                    TK("ok", 0, 5, 1000, 0)};
    ts[2].constraints = want;
    ts[2].n_constraints = 1;
    ts[3].cpu_milli = 16500;
    struct corral_view v = {ws, 2, ts, 5};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "fifo", st, 0, 1);
    assert_int_equal(p.n_unsched, 4);
    assert_int_equal(p.unsched[0].task, 0);
    assert_string_equal(p.unsched[0].reason, "unschedulable: needs cpu 64, largest worker has 16");
    assert_int_equal(p.unsched[1].task, 1);
    assert_string_equal(p.unsched[1].reason,
                        "unschedulable: needs mem_mb 9000, largest worker has 4096");
    assert_int_equal(p.unsched[2].task, 2);
    assert_string_equal(p.unsched[2].reason, "unschedulable: no worker has label zone=a");
    assert_int_equal(p.unsched[3].task, 3);
    assert_string_equal(p.unsched[3].reason,
                        "unschedulable: needs cpu 16.5, largest worker has 16");
    assert_int_equal(p.n_assign, 1);
    assert_int_equal(p.assign[0].task, 4);
    corral_plan_cleanup(&p);
    free(st);
}

static void unschedulable_when_requirements_only_met_separately(void **state)
{
    (void)state;
    struct corral_worker_view ws[] = {WK("w1", 4, 16000, 1024), WK("w2", 4, 1000, 8192)};
    struct corral_task_view ts[] = {TK("t", 0, 1, 8000, 4096)};
    struct corral_view v = {ws, 2, ts, 1};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "fifo", st, 0, 1);
    assert_int_equal(p.n_unsched, 1);
    assert_non_null(strstr(p.unsched[0].reason, "unschedulable: no single worker"));
    corral_plan_cleanup(&p);
    free(st);
}

static void unschedulable_with_no_workers(void **state)
{
    (void)state;
    struct corral_task_view ts[] = {TK("t", 0, 1, 0, 0)};
    struct corral_view v = {NULL, 0, ts, 1};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "fifo", st, 0, 1);
    assert_int_equal(p.n_assign, 0);
    assert_int_equal(p.n_unsched, 1);
    assert_string_equal(p.unsched[0].reason, "unschedulable: no workers");
    corral_plan_cleanup(&p);
    free(st);
}

static void usage_accumulates_within_one_plan(void **state)
{
    (void)state;
    struct corral_worker_view ws[] = {WK("w", 2, 8000, 1000)};
    struct corral_task_view ts[] = {TK("t1", 0, 1, 1000, 400), TK("t2", 0, 2, 1000, 400),
                                    TK("t3", 0, 3, 1000, 100)};
    struct corral_view v = {ws, 1, ts, 3};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "fifo", st, 0, 1);
    assert_int_equal(p.n_assign, 2); /* two slots */
    assert_int_equal(p.n_unsched, 0);
    /* The caller's view is not modified. */
    assert_int_equal(ws[0].running, 0);
    assert_int_equal(ws[0].used_cpu_milli, 0);
    assert_int_equal(ws[0].used_mem_mb, 0);
    corral_plan_cleanup(&p);
    ws[0].slots = 10;
    ts[2].mem_mb = 201; /* 400 + 400 + 201 > 1000 */
    p = plan_with(&v, "least-loaded", "fifo", st, 0, 1);
    assert_int_equal(p.n_assign, 2);
    assert_int_equal(worker_of(&p, 2), -1);
    corral_plan_cleanup(&p);
    free(st);
}

static void big_blocked_task_does_not_block_small_ones_elsewhere(void **state)
{
    (void)state;
    /* big (first in order) needs 4 cpu: only w1 could ever hold it, and w1 is busy now. */
    struct corral_worker_view ws[] = {WK("w1", 4, 4000, 0), WK("w2", 4, 2000, 0)};
    ws[0].running = 1;
    ws[0].used_cpu_milli = 2000;
    struct corral_task_view ts[] = {TK("big", 10, 1, 4000, 0), TK("s1", 0, 2, 1000, 0),
                                    TK("s2", 0, 3, 1000, 0)};
    struct corral_view v = {ws, 2, ts, 3};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "priority", st, 0, 1);
    assert_int_equal(p.n_unsched, 0);
    assert_int_equal(worker_of(&p, 0), -1);
    assert_int_equal(worker_of(&p, 1), 1);
    assert_int_equal(worker_of(&p, 2), 1);
    corral_plan_cleanup(&p);
    free(st);
}

static void reservation_keeps_reserved_worker_free(void **state)
{
    (void)state;
    /* w1 has 2 cpu free, enough for the small tasks, but big reserves it. */
    struct corral_worker_view ws[] = {WK("w1", 4, 4000, 0), WK("w2", 4, 1000, 0)};
    ws[0].running = 1;
    ws[0].used_cpu_milli = 2000;
    struct corral_task_view ts[] = {TK("big", 10, 1, 4000, 0), TK("s1", 0, 2, 1000, 0),
                                    TK("s2", 0, 3, 1000, 0), TK("s3", 0, 4, 1000, 0)};
    struct corral_view v = {ws, 2, ts, 4};
    static const char *const all[] = {"least-loaded", "round-robin", "random", "weighted",
                                      "bin-pack"};
    for (size_t i = 0; i < 5; i++) {
        struct corral_sched_state *st = new_state();
        struct corral_plan p = plan_with(&v, all[i], "priority", st, 0, 3);
        assert_int_equal(p.n_assign, 1);
        assert_int_equal(p.assign[0].task, 1);
        assert_int_equal(p.assign[0].worker, 1);
        corral_plan_cleanup(&p);
        free(st);
    }
}

static void reservation_picks_worker_with_most_free_slots(void **state)
{
    (void)state;
    /* Both could hold big once idle; w2 has more free slots, so w2 is reserved and w1 takes
     * the small task even though least-loaded would prefer w2. */
    struct corral_worker_view ws[] = {WK("w1", 4, 4000, 0), WK("w2", 8, 4000, 0)};
    ws[0].running = 3;
    ws[0].used_cpu_milli = 1000;
    ws[1].running = 1;
    ws[1].used_cpu_milli = 1000;
    struct corral_task_view ts[] = {TK("big", 10, 1, 4000, 0), TK("s1", 0, 2, 1000, 0)};
    struct corral_view v = {ws, 2, ts, 2};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "priority", st, 0, 1);
    assert_int_equal(p.n_assign, 1);
    assert_int_equal(worker_of(&p, 1), 0);
    corral_plan_cleanup(&p);
    free(st);
}

static void only_first_blocked_task_reserves(void **state)
{
    (void)state;
    struct corral_kv za[] = {KV("zone", "a")}, zb[] = {KV("zone", "b")};
    struct corral_worker_view ws[] = {WK("w1", 4, 4000, 0), WK("w2", 4, 4000, 0),
                                      WK("w3", 4, 1000, 0)};
    ws[0].labels = za;
    ws[0].n_labels = 1;
    ws[1].labels = zb;
    ws[1].n_labels = 1;
    ws[0].running = ws[1].running = 1;
    ws[0].used_cpu_milli = ws[1].used_cpu_milli = 2000;
    struct corral_task_view ts[] = {TK("big-a", 10, 1, 4000, 0), TK("big-b", 9, 2, 4000, 0),
                                    TK("small", 0, 3, 1000, 0)};
    ts[0].constraints = za;
    ts[0].n_constraints = 1;
    ts[1].constraints = zb;
    ts[1].n_constraints = 1;
    struct corral_view v = {ws, 3, ts, 3};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "priority", st, 0, 1);
    /* w1 is reserved by big-a; big-b reserves nothing, so small may use w2 (load 3/4 < w3's 1). */
    assert_int_equal(p.n_assign, 1);
    assert_int_equal(worker_of(&p, 2), 1);
    corral_plan_cleanup(&p);
    free(st);
}

static void not_before_is_respected(void **state)
{
    (void)state;
    struct corral_worker_view ws[] = {WK("w", 10, 0, 0)};
    struct corral_task_view ts[] = {TK("later", 0, 1, 0, 0), TK("now", 0, 2, 0, 0),
                                    TK("past", 0, 3, 0, 0)};
    ts[0].not_before_ms = 5001;
    ts[1].not_before_ms = 5000;
    ts[2].not_before_ms = 10;
    struct corral_view v = {ws, 1, ts, 3};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "fifo", st, 5000, 1);
    assert_int_equal(p.n_assign, 2);
    assert_int_equal(p.n_unsched, 0);
    assert_int_equal(worker_of(&p, 0), -1);
    assert_int_equal(worker_of(&p, 1), 0);
    assert_int_equal(worker_of(&p, 2), 0);
    corral_plan_cleanup(&p);
    p = plan_with(&v, "least-loaded", "fifo", st, 5001, 1);
    assert_int_equal(p.n_assign, 3);
    corral_plan_cleanup(&p);
    free(st);
}

static void plan_is_deterministic(void **state)
{
    (void)state;
    struct corral_kv za[] = {KV("zone", "a")};
    struct corral_worker_view ws[] = {WK("a", 3, 4000, 4096), WK("b", 5, 8000, 1024),
                                      WK("c", 2, 2000, 8192), WK("d", 4, 4000, 4096)};
    ws[2].labels = za;
    ws[2].n_labels = 1;
    ws[0].weight = 2;
    ws[3].weight = 5;
    struct corral_task_view ts[12];
    char ids[12][8];
    for (int i = 0; i < 12; i++) {
        snprintf(ids[i], sizeof ids[i], "t%02d", i);
        ts[i] = (struct corral_task_view)TK(ids[i], (i * 7) % 5 - 2, 1000 - i * 13,
                                            (uint32_t)(500 * (i % 4)), (uint64_t)(256 * (i % 3)));
        if (i % 5 == 0) {
            ts[i].constraints = za;
            ts[i].n_constraints = 1;
        }
        ts[i].has_estimated = i % 2 == 0;
        ts[i].estimated_ms = (uint64_t)(i * 100);
    }
    struct corral_view v = {ws, 4, ts, 12};
    static const char *const places[] = {"least-loaded", "round-robin", "random", "weighted",
                                         "bin-pack"};
    static const char *const orders[] = {"priority", "fifo", "sjf"};
    for (size_t i = 0; i < 5; i++) {
        for (size_t j = 0; j < 3; j++) {
            struct corral_sched_state *s1 = new_state(), *s2 = new_state();
            struct corral_plan p1 = plan_with(&v, places[i], orders[j], s1, 99999, 5);
            struct corral_plan p2 = plan_with(&v, places[i], orders[j], s2, 99999, 5);
            assert_int_equal(p1.n_assign, p2.n_assign);
            assert_int_equal(p1.n_unsched, p2.n_unsched);
            assert_true(p1.n_assign > 0);
            assert_memory_equal(p1.assign, p2.assign, p1.n_assign * sizeof(*p1.assign));
            assert_memory_equal(s1, s2, sizeof(*s1));
            corral_plan_cleanup(&p1);
            corral_plan_cleanup(&p2);
            free(s1);
            free(s2);
        }
    }
}

static void empty_queue_gives_empty_plan(void **state)
{
    (void)state;
    struct corral_worker_view ws[] = {WK("w", 10, 0, 0)};
    struct corral_view v = {ws, 1, NULL, 0};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = plan_with(&v, "least-loaded", "fifo", st, 0, 1);
    assert_int_equal(p.n_assign, 0);
    assert_int_equal(p.n_unsched, 0);
    corral_plan_cleanup(&p);
    corral_plan_cleanup(&p); /* idempotent */
    free(st);
}

static void plan_rejects_missing_policy(void **state)
{
    (void)state;
    struct corral_view v = {0};
    struct corral_policy pol = {NULL, corral_order_find("fifo")};
    struct corral_sched_state *st = new_state();
    struct corral_plan p = {0};
    struct corral_error err = {0};
    assert_int_equal(corral_sched_plan(&v, &pol, st, 0, 1, &p, &err), CORRAL_EINTERNAL);
    assert_null(p.assign);
    free(st);
}

/* ------------------------------------------------------------------------------------------ */
/* Tables and rng                                                                              */

static void policies_are_found_by_contract_names(void **state)
{
    (void)state;
    static const char *const places[] = {"least-loaded", "round-robin", "random", "weighted",
                                         "bin-pack"};
    for (size_t i = 0; i < 5; i++) {
        const struct corral_placement *p = corral_placement_find(places[i]);
        assert_non_null(p);
        assert_string_equal(p->name, places[i]);
        assert_non_null(p->place);
    }
    assert_non_null(corral_order_find("priority"));
    assert_non_null(corral_order_find("fifo"));
    assert_non_null(corral_order_find("sjf"));
    assert_null(corral_placement_find("fastest"));
    assert_null(corral_order_find("lifo"));
    assert_null(corral_order_find(NULL));
    assert_string_equal(corral_placement_names(),
                        "least-loaded, round-robin, random, weighted, bin-pack");
    assert_string_equal(corral_order_names(), "priority, fifo, sjf");
}

static void rng_is_splitmix64(void **state)
{
    (void)state;
    uint64_t s = 0;
    assert_true(corral_rng_next(&s) == UINT64_C(0xe220a8397b1dcdaf));
    assert_true(corral_rng_next(&s) == UINT64_C(0x6e789e6aa1b965f4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fits_now_needs_free_slot_cpu_mem_and_equal_labels),
        cmocka_unit_test(fits_ever_ignores_current_usage),
        cmocka_unit_test(least_loaded_picks_lowest_load_after_placement),
        cmocka_unit_test(least_loaded_counts_memory_dimension),
        cmocka_unit_test(least_loaded_spreads_equal_workers_within_a_plan),
        cmocka_unit_test(least_loaded_spreads_single_tasks_over_idle_equal_workers_across_rounds),
        cmocka_unit_test(least_loaded_tie_rotation_follows_ids_not_view_order),
        cmocka_unit_test(least_loaded_rotation_never_beats_a_lower_load),
        cmocka_unit_test(bin_pack_keeps_packing_single_tasks_across_rounds),
        cmocka_unit_test(least_loaded_compares_loads_exactly),
        cmocka_unit_test(placement_skips_full_workers),
        cmocka_unit_test(placement_respects_label_constraints),
        cmocka_unit_test(bin_pack_picks_fullest_worker_ties_earliest),
        cmocka_unit_test(round_robin_cycles_in_id_order_across_plans),
        cmocka_unit_test(round_robin_skips_full_worker),
        cmocka_unit_test(round_robin_survives_departed_last_worker),
        cmocka_unit_test(random_is_reproducible_for_same_seed_and_covers_all_eligible),
        cmocka_unit_test(weighted_split_is_exact_over_100_picks),
        cmocka_unit_test(weighted_interleaves_smoothly),
        cmocka_unit_test(weighted_state_survives_workers_joining),
        cmocka_unit_test(fifo_orders_by_submission_then_id),
        cmocka_unit_test(priority_orders_by_priority_then_fifo),
        cmocka_unit_test(priority_aging_lifts_starved_task_after_enough_minutes),
        cmocka_unit_test(priority_aging_ignores_future_submission_times),
        cmocka_unit_test(sjf_orders_shortest_first_missing_estimates_last),
        cmocka_unit_test(sjf_response_ratio_lets_long_job_pass_eventually),
        cmocka_unit_test(sjf_queue_submitted_over_5s_runs_short_jobs_first),
        cmocka_unit_test(sjf_long_job_wins_after_waiting_long_enough_behind_a_stream),
        cmocka_unit_test(sjf_without_estimate_ranks_as_longest_and_still_ages),
        cmocka_unit_test(orders_are_total_with_id_tie_break),
        cmocka_unit_test(unschedulable_reasons_name_the_missing_resource),
        cmocka_unit_test(unschedulable_when_requirements_only_met_separately),
        cmocka_unit_test(unschedulable_with_no_workers),
        cmocka_unit_test(usage_accumulates_within_one_plan),
        cmocka_unit_test(big_blocked_task_does_not_block_small_ones_elsewhere),
        cmocka_unit_test(reservation_keeps_reserved_worker_free),
        cmocka_unit_test(reservation_picks_worker_with_most_free_slots),
        cmocka_unit_test(only_first_blocked_task_reserves),
        cmocka_unit_test(not_before_is_respected),
        cmocka_unit_test(plan_is_deterministic),
        cmocka_unit_test(empty_queue_gives_empty_plan),
        cmocka_unit_test(plan_rejects_missing_policy),
        cmocka_unit_test(policies_are_found_by_contract_names),
        cmocka_unit_test(rng_is_splitmix64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
