-- Registry step used by silver.dsl: @step("NormalizeEventType").
-- Lower-cases and trims event_type so 'PAGE_VIEW', ' search' and 'Add_To_Cart '
-- all match the silver vocabulary; every other column passes through unchanged.
SELECT
  event_id,
  user_id,
  email,
  lower(trim(event_type)) AS event_type,
  amount,
  event_time
FROM input
