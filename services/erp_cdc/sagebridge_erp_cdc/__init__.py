"""erp_cdc: change capture from the ERP's own tables (or query API) into erp.raw.v1."""
