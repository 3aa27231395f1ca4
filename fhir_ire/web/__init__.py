"""HTTP shell: Flask blueprints over the plain functions of terminology/ and crd/. Never imports the build."""
