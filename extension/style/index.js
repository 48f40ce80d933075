import './base.css';
import './magic.css';
import './deploy.css';
