/** The HTTP prediction server: routes, limits, the micro-batcher and its metrics. No DJL here. */
package dev.convbert.runtime.serve;
