"""storefront_writer: ERP-origin canonical events (stock, products, shipments, order status, customers) written to the store."""
