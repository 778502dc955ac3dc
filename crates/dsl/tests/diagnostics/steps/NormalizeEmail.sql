SELECT order_id, lower(email) AS email, amount, currency FROM input
