/** GLUE: the task registry, readers for the official TSV layouts, and submission files for the GLUE server. */
package dev.convbert.core.glue;
