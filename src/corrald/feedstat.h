/* SPDX-License-Identifier: MIT */
/*
 * Metrics from the events feed (corral/event.h): while this replica leads, a small thread
 * follows the feed once a second from where it was when the term began and counts what no
 * single writer sees: attempts that put their task back in the queue (by how they ended) and
 * the time from submission to each attempt's start. Its own thread, so that reading the feed
 * never delays a scheduling round.
 */
#ifndef CORRALD_FEEDSTAT_H
#define CORRALD_FEEDSTAT_H

#include "corrald/replica.h"

/* Every FEEDSTAT_PERIOD_MS, at most FEEDSTAT_READS reads of up to 4,096 events each. */
#define FEEDSTAT_PERIOD_MS 1000
#define FEEDSTAT_READS     8

struct feedstat;

/* Start the thread (it idles while the replica does not lead). Never NULL. */
struct feedstat *feedstat_start(struct replica *r);
/* Stop and join the thread, free everything; NULL is fine. Before zk_close(). */
void feedstat_stop(struct feedstat *f);

#endif
