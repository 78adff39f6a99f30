"""The `hearback` command: the composition root. Only this package puts the pipeline, the
speaker database and the web service together; the packages below it never import it."""
